#!/bin/bash
# coordinator_restart.sh: the coordinator dies (SIGKILL) after two committed
# checkpoints and a new one is started on the same port. The program runs on,
# joins the new coordinator, and its next checkpoint is generation 3, not 1
# again: a new coordinator must never write images over committed ones under
# the same names. That checkpoint restarts and finishes as an uninterrupted
# run does.
. "$(dirname "$0")/harness.sh"
h_init
h_first_checkpoint 3 "$H_PROGRAMS/it_heap_churn" 16 80 100
h_wait_step "$H_OUT" 5
h_checkpoint
grep -q "^checkpoint 2 written" "$H_TMP/command.log" || h_fail "the second checkpoint is not generation 2: $(cat "$H_TMP/command.log")"

kill -KILL "$H_COORD_PID"
h_wait_exit "$H_COORD_PID" || h_fail "the coordinator did not die"
h_log "coordinator killed; starting a new one on port $H_PORT"
"$CKPT_BIN/ckpt_coordinator" --port "$H_PORT" --port-file "$H_TMP/coordinator2.port" >"$H_TMP/coordinator2.log" 2>&1 &
H_COORD_PID=$!
h_wait_port_file "$H_TMP/coordinator2.port" "$H_COORD_PID" "$H_TMP/coordinator2.log" >/dev/null || exit 1
h_wait_procs 1
h_checkpoint
grep -q "^checkpoint 3 written" "$H_TMP/command.log" ||
  h_fail "the new coordinator did not continue the generations: $(cat "$H_TMP/command.log")"
h_kill_app
h_restart_to_end
echo PASS
