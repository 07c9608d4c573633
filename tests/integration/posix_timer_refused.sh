#!/bin/bash
# posix_timer_refused.sh WHAT PROG [ARG...]: a POSIX timer no restart could
# make again is never dropped silently. PROG (programs/posix_timer_refused.c)
# takes such a timer at step 8: a checkpoint before succeeds; one after must
# fail with one line naming the process, the timer and WHAT is wrong with it;
# the program runs on and finishes as an uninterrupted run does, and the
# first checkpoint still restarts and finishes the same way.
. "$(dirname "$0")/harness.sh"
h_init
what=$1
shift
h_first_checkpoint 3 "$@"
h_wait_step "$H_OUT" 10
h_refused_checkpoint
[ "$(wc -l <<<"$H_REFUSAL")" -eq 1 ] || h_fail "the failure is not one line: $H_REFUSAL"
program=$(basename "$1")
grep -q "(${program:0:15}" <<<"$H_REFUSAL" || h_fail "the failure does not name the process ($program): $H_REFUSAL"
grep -qE "POSIX timer [0-9]+ $what" <<<"$H_REFUSAL" || h_fail "the failure does not name the timer and say '$what': $H_REFUSAL"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
h_log "restarting from the checkpoint before the refused one"
h_restart_to_end
echo PASS
