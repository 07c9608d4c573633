#!/bin/bash
# signal_cleanup.sh: what a computation ended by signals leaves is cleaned up.
# A batch system ends a job with SIGTERM to each of its processes; the pid
# table they shared is removed by the coordinator once the last of them is
# gone (and, were the coordinator gone too, by the next launch of the user). A
# restored tree quit (ckpt_command --quit) while its images are being
# written leaves no temporary file and no image of that checkpoint. A
# restored computation ended with SIGINT (ckpt_restart and its processes)
# has its pid table removed by the next restart, which then runs to the end.
. "$(dirname "$0")/harness.sh"
h_init
stall=$(h_workdir stall)
h_first_checkpoint 3 "$H_PROGRAMS/it_fault_tree" 200 30 24 "$stall"
h_wait_procs 2

# signal_all SIG PID...: sends SIG to each PID, then waits until they are gone.
signal_all() {
  local sig=$1 pid deadline=$((SECONDS + H_WAIT))
  shift
  kill "-$sig" "$@"
  for pid in "$@"; do
    until h_gone "$pid"; do
      [ "$SECONDS" -lt "$deadline" ] || h_fail "process $pid outlived SIG$sig"
      sleep 0.05
    done
  done
  h_log "SIG$sig ended $*"
}
# expect_swept TABLE...: the tables are gone.
expect_swept() {
  local table
  for table in "$@"; do
    [ ! -e "$table" ] || h_fail "pid table $table is still there"
  done
}

procs=("$H_APP_PID" $(h_descendants "$H_APP_PID"))
tables=$(h_pid_tables "${procs[@]}")
[ -n "$tables" ] || h_fail "the program maps no pid table"
signal_all TERM "${procs[@]}"
h_wait_exit "$H_APP_PID"
deadline=$((SECONDS + H_WAIT))
for table in $tables; do
  while [ -e "$table" ]; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "pid table $table outlived its SIGTERMed computation"
    sleep 0.05
  done
done
h_log "the coordinator removed the SIGTERMed computation's pid table once its last process was gone"
h_launch "$H_TMP/second.out" -- "$H_PROGRAMS/it_fault_tree" 200 30 1 "$stall"
h_wait_procs 2
h_kill_app

h_restart "$H_OUT"
h_wait_procs 2
h_command --checkpoint >"$H_TMP/quit-checkpoint.log" 2>&1 &
h_hold_writers 2
h_command --quit >"$H_TMP/quit.log" 2>&1 || h_fail "ckpt_command --quit failed: $(cat "$H_TMP/quit.log")"
kill -CONT "${H_WRITERS[@]}" 2>/dev/null
h_wait_exit "$H_APP_PID" || h_fail "the restarted tree outlived --quit"
h_expect_generations 1
h_log "--quit mid-write left no temporary file and no image of the checkpoint"

h_start_coordinator
h_restart "$H_OUT" --coord-port "$H_PORT"
h_wait_procs 2
procs=($(h_descendants "$H_APP_PID"))
tables=$(h_pid_tables "${procs[@]}")
[ -n "$tables" ] || h_fail "the restarted program maps no pid table"
signal_all INT "$H_APP_PID" "${procs[@]}"
h_wait_exit "$H_APP_PID"
h_restart "$H_OUT" --coord-port "$H_PORT"
h_wait_procs 2
expect_swept $tables
h_log "the next restart removed the SIGINTed computation's pid table"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
echo PASS
