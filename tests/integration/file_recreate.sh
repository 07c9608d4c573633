#!/bin/bash
# file_recreate.sh PROG: a program writing an output file that is moved away
# between a checkpoint and the restart. The restart makes the file again
# (same path and mode, writes going on at the saved offset) and says so in a
# warning; the output equals the uninterrupted run's, and the new file ends
# with the program's last line.
. "$(dirname "$0")/harness.sh"
[ $# -eq 1 ] || { echo "usage: $0 PROG" >&2; exit 2; }
prog=$1 steps=30
h_init
ref=$(h_workdir reference)
h_reference "$H_TMP/expected.out" "$prog" "$ref/out.log" "$steps"
h_start_coordinator
run=$(h_workdir run)
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" "$run/out.log" "$steps"
h_wait_step "$out" 5
h_wait_procs 1
h_checkpoint
h_kill_app
mv "$run/out.log" "$run/out.log.moved"
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
grep -q "out.log (fd [0-9]*) was missing: made again with mode 0640" "$H_TMP/restart.err" ||
  h_fail "no warning that the file was made again: $(cat "$H_TMP/restart.err")"
[ "$(stat -c %a "$run/out.log")" = 640 ] || h_fail "the file was made again with mode $(stat -c %a "$run/out.log")"
[ "$(tail -n 1 "$run/out.log")" = "line $steps" ] || h_fail "the new file does not end with line $steps"
echo PASS
