#!/bin/bash
# tree_shared_log.sh PROG: two processes append to one log through a shared
# O_APPEND description while the parent reads its input through stdio
# (programs/tree_shared_log.c). Checkpointed and killed during the program's
# quiet phase (nobody writes the log then), restarted; the output and the log
# must equal the uninterrupted run's byte for byte.
. "$(dirname "$0")/harness.sh"
prog=$1
h_init
reference=$(h_workdir reference)
h_reference "$H_TMP/expected.out" "$prog" "$reference"
h_start_coordinator
out=$H_TMP/actual.out
run=$(h_workdir run)
h_launch "$out" -- "$prog" "$run"
h_wait_step "$out" 3
h_wait_procs 2
h_checkpoint
h_kill_app
# Were the log written to between the checkpoint and the kill, the restart
# would legitimately write those lines again.
grep -q '^phase 3$' "$out" && h_fail "the kill came after the quiet phase ended; make QUIET_LINES larger"
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
cmp "$reference/shared.log" "$run/shared.log" >/dev/null ||
  h_fail "the log differs from the uninterrupted run's: $(diff "$reference/shared.log" "$run/shared.log" | head -20)"
h_log "the log matches the uninterrupted run's ($(wc -l <"$run/shared.log") lines)"
echo PASS
