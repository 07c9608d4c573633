#!/bin/bash
# periodic_checkpoint.sh PROG [ARG...]
# Runs PROG under ckpt_launch --interval 1, kills it with SIGKILL at a random
# moment once at least one periodic checkpoint is committed (possibly in the
# middle of the next one), restarts from the latest restart script, and
# checks the final output matches the uninterrupted run's.
. "$(dirname "$0")/harness.sh"
[ $# -ge 1 ] || { echo "usage: $0 PROG [ARG...]" >&2; exit 2; }
h_init
h_reference "$H_TMP/expected.out" "$@"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" --interval 1 -- "$@"

deadline=$((SECONDS + H_WAIT))
until [ -x "$H_CKPTDIR/ckpt_restart_script.sh" ]; do
  h_gone "$H_APP_PID" && h_fail "program finished before any periodic checkpoint was committed"
  [ "$SECONDS" -lt "$deadline" ] || h_fail "no periodic checkpoint within ${H_WAIT} s of --interval 1"
  sleep 0.05
done
delay_ms=$((RANDOM % 1500))
h_log "first periodic checkpoint committed; killing in $delay_ms ms"
sleep "$((delay_ms / 1000)).$(printf %03d $((delay_ms % 1000)))"
h_gone "$H_APP_PID" && h_fail "program finished before the kill; make it run longer"
kill -KILL "$H_APP_PID"
h_wait_exit "$H_APP_PID" || h_fail "process $H_APP_PID survived SIGKILL"
h_log "killed pid $H_APP_PID at step $(h_max_step "$out")"

h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
