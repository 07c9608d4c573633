#!/bin/bash
# process_creation_static.sh PROG STATIC_PROG: a program execs a statically
# linked one. It gets a one-line warning, leaves the coordinator (which
# sees the process go while it still runs), runs normally, and ckpt_launch
# exits with its status.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/process_creation_lib.sh"
prog=$1 static=$2
[ -x "$static" ] || { echo "SKIP: no static test program (libc.a missing at build time)"; exit 77; }
h_init
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" exec-cleared static_prog "$static" 3 7
pc_wait_line "$out" '^static program running$'
deadline=$((SECONDS + 10))
until [ "$(pc_process_count)" -eq 0 ]; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "the coordinator still lists the process after it exec'ed a static program"
  sleep 0.05
done
h_gone "$H_APP_PID" && h_fail "the static program did not run long enough to check the coordinator"
h_wait_exit "$H_APP_PID" || h_fail "the static program did not finish"
[ "$H_STATUS" -eq 7 ] || h_fail "ckpt_launch exited with $H_STATUS, not the static program's 7"
expected="ckpt: $static is statically linked; it runs outside the checkpoint"
[ "$(cat "$H_TMP/app.err")" = "$expected" ] || h_fail "stderr is not exactly the warning: $(cat "$H_TMP/app.err")"

# Launched directly, the static program gets ckpt_launch's warning and its status.
status=0
"$CKPT_BIN/ckpt_launch" --join "$static" 1 5 >"$H_TMP/direct.out" 2>"$H_TMP/direct.err" </dev/null || status=$?
[ "$status" -eq 5 ] || h_fail "ckpt_launch STATIC exited with $status, not the program's 5"
expected="ckpt_launch: warning: $static is statically linked; it runs outside the checkpoint"
[ "$(cat "$H_TMP/direct.err")" = "$expected" ] || h_fail "ckpt_launch STATIC: stderr is not the warning: $(cat "$H_TMP/direct.err")"
echo PASS
