#!/bin/bash
# socket_refill.sh COUNT LAST_STEP PROG [ARG...]: up to COUNT checkpoints
# back to back (each as soon as the last is committed) while PROG runs,
# without killing it, stopping once PROG printed step LAST_STEP: at each,
# the bytes drained from PROG's connections go back into them with both
# directions full. No checkpoint may stall (a refill waiting for the other
# end of its connection to read, which waits for it: the checkpoint took
# 10 s and the connection lost what the wait gave up on), no process may
# warn that it could not put bytes back, and PROG's output must equal an
# uninterrupted run's. At least half the checkpoints must have been taken.
. "$(dirname "$0")/harness.sh"
[ $# -ge 3 ] || { echo "usage: $0 COUNT LAST_STEP PROG [ARG...]" >&2; exit 2; }
count=$1 last_step=$2
shift 2
stall_ms=8000  # a checkpoint of two processes takes well under 1 s, also under load
h_init
h_reference "$H_TMP/expected.out" "$@"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$@"
h_wait_step "$out" 2
taken=0
while [ "$taken" -lt "$count" ] && [ "$(h_max_step "$out")" -lt "$last_step" ]; do
  start=$(date +%s%N)
  h_checkpoint
  ms=$((($(date +%s%N) - start) / 1000000))
  taken=$((taken + 1))
  [ "$ms" -lt "$stall_ms" ] || h_fail "checkpoint $taken took $ms ms: a refill waited for the other end of its connection"
done
[ "$taken" -ge $((count / 2)) ] || h_fail "only $taken checkpoints before step $last_step"
h_log "$taken checkpoints"
h_wait_app_exit
if grep -h "put back" "$CKPT_LOG_DIR"/* 2>/dev/null; then
  h_fail "a process could not put back the bytes in flight"
fi
h_compare "$H_TMP/expected.out" "$out"
echo PASS
