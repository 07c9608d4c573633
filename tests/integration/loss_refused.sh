#!/bin/bash
# loss_refused.sh KIND WHAT: nothing is dropped silently. A program that
# holds something ckpt cannot checkpoint (KIND, see programs/loss_holder.c)
# is checkpointed once before it takes it (that checkpoint succeeds), then
# after: that checkpoint must fail with one line naming the process, the fd
# number and WHAT it is; the program keeps running and finishes as an
# uninterrupted run does; the restart script still names the first
# checkpoint, which restarts and finishes the same way.
. "$(dirname "$0")/harness.sh"
h_init
kind=$1 what=$2
prog=("$H_PROGRAMS/it_loss_holder" "$kind" 8 60 50 "$H_TMP/never")
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "${prog[@]}"
h_wait_step "$out" 3
h_checkpoint
script_sum=$(cksum <"$H_CKPTDIR/ckpt_restart_script.sh")

h_wait_step "$out" 10
status=0
h_command --checkpoint >"$H_TMP/refused.log" 2>&1 || status=$?
msg=$(cat "$H_TMP/refused.log")
h_log "checkpoint while holding $kind: exit $status: $msg"
[ "$status" -ne 0 ] || h_fail "the checkpoint succeeded although the program holds $what"
[ "$(wc -l <"$H_TMP/refused.log")" -eq 1 ] || h_fail "the failure is not one line: $msg"
grep -q "it_loss_holder" <<<"$msg" || h_fail "the failure does not name the process: $msg"
grep -qF "$what, which ckpt cannot checkpoint" <<<"$msg" || h_fail "the failure does not say what the fd is ($what): $msg"
[ "$(cksum <"$H_CKPTDIR/ckpt_restart_script.sh")" = "$script_sum" ] || h_fail "the failed checkpoint replaced the restart script"
ls "$H_CKPTDIR"/*.tmp.* >/dev/null 2>&1 && h_fail "the failed checkpoint left temporary files: $(ls "$H_CKPTDIR")"

h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"

h_log "restarting from the checkpoint before the refused one"
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
