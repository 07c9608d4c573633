#!/bin/bash
# loss_refused.sh WHAT CMD...: nothing is dropped silently. A program CMD
# that from step 8 on holds something ckpt cannot checkpoint (see
# programs/loss_holder.c and loss_holder.py) is checkpointed once before it
# takes it (that checkpoint succeeds), then
# after: that checkpoint must fail with one line naming the process, the fd
# number and WHAT it is; the program keeps running and finishes as an
# uninterrupted run does; the restart script still names the first
# checkpoint, which restarts and finishes the same way.
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
grep -qF "$what, which ckpt cannot checkpoint" <<<"$H_REFUSAL" ||
  h_fail "the failure does not say what the fd is ($what): $H_REFUSAL"
ls "$H_CKPTDIR"/*.tmp.* >/dev/null 2>&1 && h_fail "the failed checkpoint left temporary files: $(ls "$H_CKPTDIR")"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"

h_log "restarting from the checkpoint before the refused one"
h_restart_to_end
echo PASS
