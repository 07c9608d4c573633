#!/bin/bash
# pty_refused.sh: nothing is lost silently. A program (programs/pty_unopened.py)
# is checkpointed once, then opens a pty master whose slave nobody opens: the
# next checkpoint must fail with one line naming the process, the descriptor
# and why; the program keeps running and finishes as an uninterrupted run
# does, and the first checkpoint restarts and finishes the same way.
. "$(dirname "$0")/harness.sh"
h_init
prog=(python3 "$H_PROGRAMS/pty_unopened.py" 30 6)
h_first_checkpoint 2 "${prog[@]}"
h_wait_step "$H_OUT" 8
h_refused_checkpoint
[ "$(wc -l <<<"$H_REFUSAL")" -eq 1 ] || h_fail "the failure is not one line: $H_REFUSAL"
grep -q "(python3" <<<"$H_REFUSAL" || h_fail "the failure does not name the process: $H_REFUSAL"
grep -qE "fd [0-9]+ \(the pty master of /dev/pts/[0-9]+\): no process of the computation holds its slave side" \
  <<<"$H_REFUSAL" || h_fail "the failure does not say which pty and why: $H_REFUSAL"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
h_log "restarting from the checkpoint before the refused one"
h_restart_to_end
echo PASS
