#!/bin/bash
# hung_process.sh: a process that stops responding mid-checkpoint.
# After a good checkpoint, the program is held by a debugger (gdb attached:
# every thread in a tracing stop, which nobody but the debugger can end; a
# job-control stop would not do, the coordinator continues those, see
# stopped_alone.sh); a checkpoint with the coordinator's short --timeout must
# fail with a message naming the process, and must not disturb the program:
# once the debugger lets go it finishes with the uninterrupted run's output.
# The previous images still restart.
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

# The launched ckpt_launch execs the program: H_APP_PID is the program.
release=$H_TMP/release-debugger
gdb -q -nx -batch -p "$H_APP_PID" -ex "shell while [ ! -e '$release' ]; do sleep 0.05; done" \
  >"$H_TMP/gdb.log" 2>&1 &
debugger=$!
h_on_exit "touch '$release'"
held() {
  local task
  for task in /proc/"$H_APP_PID"/task/*; do
    [ "$(h_proc_state "${task##*/}")" = t ] || return 1  # /proc/TID names a thread too
  done
}
deadline=$((SECONDS + 30))
until held; do
  h_gone "$debugger" && h_fail "gdb could not hold pid $H_APP_PID: $(cat "$H_TMP/gdb.log")"
  [ "$SECONDS" -lt "$deadline" ] || h_fail "gdb did not stop every thread of pid $H_APP_PID within 30 s"
  sleep 0.05
done
h_log "pid $H_APP_PID held by gdb at step $(h_max_step "$out")"
status=0
start=$SECONDS
timeout -k 5 60 "$CKPT_BIN/ckpt_command" --coord-host localhost --coord-port "$H_PORT" --checkpoint \
  >"$H_TMP/hung-checkpoint.log" 2>&1 || status=$?
msg=$(cat "$H_TMP/hung-checkpoint.log")
h_log "checkpoint of the stopped process: exit $status after $((SECONDS - start)) s: $msg"
touch "$release"
h_wait_exit "$debugger" || h_fail "gdb did not let go of pid $H_APP_PID"
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
