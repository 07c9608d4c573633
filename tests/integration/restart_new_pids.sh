#!/bin/bash
# restart_new_pids.sh PROG [ARG...]: the standard checkpoint/kill/restart
# cycle, restarted with --no-restore-pids, so every process of the tree gets
# a new kernel pid (as an unprivileged restart does) and only the pid table
# keeps the application's view: parents, waits by pid, zombies, groups.
. "$(dirname "$0")/harness.sh"
h_init
h_reference "$H_TMP/expected.out" "$@"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$@"
h_wait_step "$out" 5
old_pid=$H_APP_PID
h_checkpoint
h_kill_app
stat -c %s "$out" >>"$out.bounds"
"$H_CKPTDIR/ckpt_restart_script.sh" --no-restore-pids >>"$out" 2>>"$H_TMP/restart.err" </dev/null &
H_APP_PID=$!
h_wait_step "$out" $(($(h_max_step "$out") + 1))
root=$(pgrep -P "$H_APP_PID" | head -1)
[ -n "$root" ] || h_fail "ckpt_restart has no restored child"
[ "$root" != "$old_pid" ] || h_fail "the root got its old pid $old_pid back despite --no-restore-pids"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo "PASS"
