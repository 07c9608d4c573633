#!/bin/bash
# plugin_failure.sh: a plugin that fails the checkpoint (ckpt_fail_checkpoint)
# makes ckpt_command --checkpoint exit non-zero with the plugin's reason and
# the process's name; the program runs on, the previous restart script stays.
# Once the plugin lets it, the next checkpoint succeeds and restarts.
. "$(dirname "$0")/harness.sh"
h_init
fail=$H_TMP/fail
prog=("$H_PROGRAMS/it_failing_plugin" 80 40 "$fail")
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "${prog[@]}"
h_wait_step "$out" 3
h_checkpoint
script_sum=$(cksum <"$H_CKPTDIR/ckpt_restart_script.sh")

touch "$fail"
status=0
h_command --checkpoint >"$H_TMP/refused.log" 2>&1 || status=$?
msg=$(cat "$H_TMP/refused.log")
h_log "checkpoint with a failing plugin: exit $status: $msg"
[ "$status" -ne 0 ] || h_fail "the checkpoint succeeded although a plugin failed it"
grep -qF "flaky: the device is busy, try again later" <<<"$msg" || h_fail "the failure does not give the plugin's reason: $msg"
grep -q "it_failing_plugin" <<<"$msg" || h_fail "the failure does not name the process: $msg"
[ "$(cksum <"$H_CKPTDIR/ckpt_restart_script.sh")" = "$script_sum" ] || h_fail "the failed checkpoint replaced the restart script"

rm "$fail"
h_wait_step "$out" $(($(h_max_step "$out") + 2))
h_checkpoint
h_kill_app
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
