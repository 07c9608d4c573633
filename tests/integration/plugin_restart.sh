#!/bin/bash
# plugin_restart.sh: a third party's restart side (ckpt/restart.h), loaded
# with ckpt_restart --plugin, runs in the same phases as the built-in kinds:
# its check can refuse the restart with its reason (nothing runs, exit 1),
# its create reads what its checkpoint side saved in the image. The
# computation then finishes as an uninterrupted run does.
. "$(dirname "$0")/harness.sh"
h_init
lib=$H_PROGRAMS/libit_restart_plugin.so
h_first_checkpoint 3 "$H_PROGRAMS/it_failing_plugin" 80 40 "$H_TMP/never"
h_kill_app

status=0
FLAKY_REFUSE=1 "$H_CKPTDIR/ckpt_restart_script.sh" --plugin "$lib" >"$H_TMP/refused.out" 2>"$H_TMP/refused.err" </dev/null ||
  status=$?
[ "$status" -eq 1 ] || h_fail "a restart refused by the plugin exited with $status: $(cat "$H_TMP/refused.err")"
grep -qF "flaky: the device is not back yet" "$H_TMP/refused.err" ||
  h_fail "the refusal does not give the plugin's reason: $(cat "$H_TMP/refused.err")"
[ ! -s "$H_TMP/refused.out" ] || h_fail "the refused restart ran the program: $(cat "$H_TMP/refused.out")"

export FLAKY_OUT=$H_TMP/flaky.out CKPT_RESTART_PLUGINS=$lib
h_restart_to_end
saved=$(cat "$FLAKY_OUT" 2>/dev/null) || h_fail "the plugin's create phase did not run"
grep -qE "^step [0-9]+ $saved\$" "$H_TMP/expected.out" || h_fail "the plugin read $saved, which no step computed"
echo PASS
