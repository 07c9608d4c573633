#!/bin/bash
# mqueue_refused.sh PROG STEPS SLEEP_MS: programs/mq_pipeline.c with
# raw-notify=FILE is checkpointed once; then FILE tells it to hold a queue whose
# mq_notify registration is made by a raw system call, whose sigevent ckpt
# cannot know: two checkpoints are refused with one line naming the
# descriptor and the queue, and the program goes on (its other queues were
# read out and put back meanwhile, their registrations taken off and made
# again). Killed, it restarts from the first checkpoint and finishes as an
# uninterrupted run does.
. "$(dirname "$0")/harness.sh"
prog=$1 steps=$2 sleep_ms=$3
prefix=/ckpt_it_mq_$$
h_init
h_on_exit "'$prog' --unlink $prefix"
raw=$H_TMP/raw-notify-now
h_reference "$H_TMP/expected.out" "$prog" "$prefix" "$steps" "$sleep_ms" "raw-notify=$raw"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" "$prefix" "$steps" "$sleep_ms" "raw-notify=$raw"
h_wait_step "$out" 3
h_wait_procs 3
h_checkpoint
touch "$raw"
h_wait_step "$out" $(($(h_max_step "$out") + 2))
h_refused_checkpoint
echo "$H_REFUSAL" | grep -qE "fd [0-9]+ \(the POSIX message queue ${prefix}_Z\): it has an mq_notify registration of process [0-9]+ that ckpt cannot save" ||
  h_fail "the refusal does not name the queue and its registration: $H_REFUSAL"
h_wait_step "$out" $(($(h_max_step "$out") + 2))
h_refused_checkpoint
h_kill_app
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
