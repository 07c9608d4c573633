#!/bin/bash
# mqueue_cycles.sh restart|checkpoints N PROG STEPS SLEEP_MS: PROG
# (programs/mq_pipeline.c) under ckpt with its queues named after this
# script's pid. restart: N rounds of checkpoint, kill, restart while messages
# are in flight (h_cycle_test); checkpoints: N checkpoints of the running
# program. Either way its output must be an uninterrupted run's; the queues
# are unlinked whatever happens.
. "$(dirname "$0")/harness.sh"
mode=$1 n=$2 prog=$3 steps=$4 sleep_ms=$5
prefix=/ckpt_it_mq_$$
h_on_exit "'$prog' --unlink $prefix"
case $mode in
  restart) h_cycle_test "$n" 5 -- "$prog" "$prefix" "$steps" "$sleep_ms" ;;
  checkpoints)
    bash "$(dirname "$0")/checkpoints_only.sh" "$n" "$prog" "$prefix" "$steps" "$sleep_ms"
    rc=$?
    "$prog" --unlink "$prefix"
    exit $rc ;;
  *) echo "usage: $0 restart|checkpoints N PROG STEPS SLEEP_MS" >&2; exit 2 ;;
esac
