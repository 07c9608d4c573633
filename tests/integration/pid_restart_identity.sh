#!/bin/bash
# pid_restart_identity.sh PROG STEPS: PROG (programs/pid_identity.c) checks
# its pid, its thread's tid, signals' si_pid and /proc paths at every step.
# It is checkpointed, killed and restarted twice with --no-restore-pids, so
# the kernel gives it new ids; every check must still see the old ones and
# the output must match an uninterrupted run.
. "$(dirname "$0")/harness.sh"
prog=$1 steps=$2
h_init
side=$H_TMP/pids
h_reference "$H_TMP/expected.out" "$prog" "$steps"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" "$steps" "$side"
target=3
for cycle in 1 2; do
  h_wait_step "$out" "$target"
  h_checkpoint
  h_kill_app
  target=$(($(h_max_step "$out") + 2))
  # h_restart, with new kernel pids.
  stat -c %s "$out" >>"$out.bounds"
  "$H_CKPTDIR/ckpt_restart_script.sh" --no-restore-pids >>"$out" 2>>"$H_TMP/restart.err" </dev/null &
  H_APP_PID=$!
  h_log "restarted with --no-restore-pids as pid $H_APP_PID"
done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
read -r virt real < <(tail -n 1 "$side")
[ -n "$real" ] || h_fail "the program wrote no pids to $side"
[ "$virt" != "$real" ] || h_fail "the restarted process got its old pid $virt back: nothing was virtualized"
h_log "restarted process: virtual pid $virt, kernel pid $real"
echo "PASS"
