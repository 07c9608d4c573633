#!/bin/bash
# checkpoints_only.sh COUNT PROG [ARG...]
# Runs PROG under ckpt_launch and takes COUNT checkpoints while it runs (one
# after each new step it prints), without killing it, then checks its output
# equals an uninterrupted run's: for programs whose threads sit in blocking
# calls that a checkpoint interrupts, and whose resources a restart cannot
# bring back yet.
. "$(dirname "$0")/harness.sh"
[ $# -ge 2 ] || { echo "usage: $0 COUNT PROG [ARG...]" >&2; exit 2; }
count=$1
shift
h_init
h_reference "$H_TMP/expected.out" "$@"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$@"
for ((i = 1; i <= count; i++)); do
  h_wait_step "$out" $(($(h_max_step "$out") + 1))
  h_checkpoint
done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
