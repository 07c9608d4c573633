#!/bin/bash
# plugin_failure.sh: a plugin that fails the checkpoint (ckpt_fail_checkpoint)
# makes ckpt_command --checkpoint exit non-zero with the plugin's reason and
# the process's name, and so does a ckpt_save_section that fails; the program runs on, the previous restart script stays.
# Once the plugin lets it, the next checkpoint succeeds and restarts.
. "$(dirname "$0")/harness.sh"
h_init
fail=$H_TMP/fail
h_first_checkpoint 3 "$H_PROGRAMS/it_failing_plugin" 80 40 "$fail"
touch "$fail"
h_refused_checkpoint
grep -qF "flaky: the device is busy, try again later" <<<"$H_REFUSAL" ||
  h_fail "the failure does not give the plugin's reason: $H_REFUSAL"
grep -q "it_failing_plugin" <<<"$H_REFUSAL" || h_fail "the failure does not name the process: $H_REFUSAL"
# A save that fails fails the checkpoint by itself, even if the plugin ignores it.
echo section >"$fail"
h_refused_checkpoint
grep -qF "cannot save section flaky-state-with-a-name-longer-than-31-bytes" <<<"$H_REFUSAL" ||
  h_fail "a failed ckpt_save_section did not fail the checkpoint with its reason: $H_REFUSAL"

rm "$fail"
h_wait_step "$H_OUT" $(($(h_max_step "$H_OUT") + 2))
h_checkpoint
h_kill_app
h_restart_to_end
echo PASS
