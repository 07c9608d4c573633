#!/bin/bash
# hung_process.sh: a process that stops responding mid-checkpoint.
# After a good checkpoint, the program is stopped with SIGSTOP; a checkpoint
# with the coordinator's short --timeout must fail with a message naming the
# process, and must not disturb the program: after SIGCONT it finishes with
# the uninterrupted run's output. The previous images still restart.
. "$(dirname "$0")/harness.sh"
h_init
prog=("$H_PROGRAMS/it_heap_churn" 16 50 100)
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator --timeout 3
out=$H_TMP/actual.out
h_launch "$out" -- "${prog[@]}"
h_wait_step "$out" 3
h_checkpoint
script_sum=$(cksum <"$H_CKPTDIR/ckpt_restart_script.sh")

kill -STOP "$H_APP_PID"
h_log "stopped pid $H_APP_PID at step $(h_max_step "$out")"
status=0
start=$SECONDS
timeout -k 5 60 "$CKPT_BIN/ckpt_command" --coord-host localhost --coord-port "$H_PORT" --checkpoint \
  >"$H_TMP/hung-checkpoint.log" 2>&1 || status=$?
msg=$(cat "$H_TMP/hung-checkpoint.log")
h_log "checkpoint of the stopped process: exit $status after $((SECONDS - start)) s: $msg"
kill -CONT "$H_APP_PID"
[ "$status" -ne 0 ] || h_fail "ckpt_command --checkpoint succeeded although the process was stopped"
[ "$status" -ne 124 ] || h_fail "ckpt_command --checkpoint did not give up within 60 s (coordinator --timeout 3)"
grep -qE "\\b$H_APP_PID\\b|it_heap_churn" "$H_TMP/hung-checkpoint.log" ||
  h_fail "the failure message does not name the process (pid $H_APP_PID, it_heap_churn): $msg"

h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
[ "$(cksum <"$H_CKPTDIR/ckpt_restart_script.sh")" = "$script_sum" ] ||
  h_fail "the failed checkpoint replaced the restart script"

h_log "restarting from the checkpoint before the failed one"
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
