#!/bin/bash
# restart_exit_status.sh: the restart script exits as the computation's root
# does: with its exit status (7 here), or, if a signal killed the root, by
# that signal (SIGTERM here), as the shell running it reports it (143). The
# root is a shell with a child it waits for, checkpointed mid-run.
. "$(dirname "$0")/harness.sh"
h_init
h_start_coordinator

# run_case WHAT EXPECTED ENDING: ENDING is the shell code the root runs last.
run_case() {
  local what=$1 expected=$2 ending=$3 out=$H_TMP/$1.out
  : >"$out"
  h_launch "$out" -- sh -c 'for i in $(seq 1 40); do echo "step $i"; sleep 0.05; done | cat; '"$ending" sh
  h_wait_step "$out" 3
  h_checkpoint
  h_kill_app
  h_restart "$out"
  h_wait_exit "$H_APP_PID" || h_fail "$what: the restarted computation did not finish within ${H_WAIT} s"
  [ "$H_STATUS" -eq "$expected" ] || h_fail "$what: the restart script exited with $H_STATUS, expected $expected"
  grep -q '^step 40$' "$out" || h_fail "$what: the restarted root did not finish its loop"
  h_log "$what: the restart script exited with $H_STATUS"
}

run_case exit_status 7 'exit 7'
run_case signal 143 'kill -TERM $$'
echo PASS
