#!/bin/bash
# pid_tree.sh PROG: runs PROG (programs/pid_tree.cpp) under ckpt_launch; it
# forks, execs, signals and reaps children and checks every pid it sees
# against the shared pid table. It must finish with status 0 and "done".
. "$(dirname "$0")/harness.sh"
prog=$1
h_init
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog"
h_wait_app_exit
cat "$out" >&2
grep -q '^FAIL' "$out" && h_fail "$(grep '^FAIL' "$out")"
[ "$(tail -n 1 "$out")" = done ] || h_fail "the program stopped early"
echo "PASS"
