#!/bin/bash
# stopped_alone.sh NPROCS CMD...
# A computation of NPROCS processes that are all stopped (SIGTSTP, as Ctrl-Z
# stops a whole job), so no process of it is left running on this host to
# continue the others for a checkpoint: the coordinator, on the same machine,
# must do it. Two checkpoints with the job stopped (it must stay stopped and
# print nothing), then checkpoint, kill and restart twice (the restored job
# must be stopped again), then SIGCONT: the output must be the uninterrupted
# run's.
. "$(dirname "$0")/harness.sh"
[ $# -ge 2 ] || { echo "usage: $0 NPROCS CMD..." >&2; exit 2; }
nprocs=$1
shift
h_init
h_reference "$H_TMP/expected.out" "$@"
h_start_coordinator --timeout 20
out=$H_TMP/actual.out
# The job gets a process group of its own, as a shell's job would: SIGTSTP
# is discarded for a group the kernel deems orphaned (no member's parent in
# another group of the session), which the test's own group becomes when
# whatever started ctest has exited (a detached CI run).
set -m
h_launch "$out" -- "$@"
set +m

real_pids() {
  h_list_json | python3 -c 'import json, sys; print(" ".join(str(p["real_pid"]) for p in json.load(sys.stdin)["processes"]))'
}

# Every process is stopped (waits up to 10 s) and stays so, printing nothing, for a second.
expect_stopped() {
  local when=$1 deadline=$((SECONDS + 10)) pid stopped steps
  while :; do
    stopped=0
    for pid in $(real_pids); do [ "$(h_proc_state "$pid")" = T ] && stopped=$((stopped + 1)); done
    [ "$stopped" -eq "$nprocs" ] && break
    [ "$SECONDS" -lt "$deadline" ] || h_fail "$when: $stopped of $nprocs processes stopped ($(for p in $(real_pids); do echo -n "$p:$(h_proc_state "$p") "; done))"
    sleep 0.05
  done
  steps=$(h_max_step "$out")
  sleep 1
  for pid in $(real_pids); do
    [ "$(h_proc_state "$pid")" = T ] || h_fail "$when: process $pid ran again (state $(h_proc_state "$pid"))"
  done
  [ "$(h_max_step "$out")" -eq "$steps" ] || h_fail "$when: the stopped job printed step $(h_max_step "$out")"
  h_log "$when: all $nprocs processes stopped at step $steps"
}

h_wait_step "$out" 3
h_wait_procs "$nprocs"
for pid in $(real_pids); do kill -TSTP "$pid"; done
expect_stopped "stopped by SIGTSTP"
for i in 1 2; do
  h_checkpoint
  expect_stopped "after checkpoint $i (no restart)"
done
for i in 1 2; do
  h_checkpoint
  old=$(real_pids)
  h_kill_app
  for pid in $old; do
    deadline=$((SECONDS + 10))
    until [ "$(h_proc_state "$pid")" = gone ] || [ "$(h_proc_state "$pid")" = Z ]; do
      [ "$SECONDS" -lt "$deadline" ] || h_fail "ckpt_command --kill left stopped process $pid alive (state $(h_proc_state "$pid"))"
      sleep 0.05
    done
  done
  h_restart "$out"
  h_wait_min_procs "$nprocs"
  expect_stopped "after restart $i"
done
for pid in $(real_pids); do kill -CONT "$pid"; done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
