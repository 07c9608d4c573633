#!/bin/bash
# dmtcp_api.sh PROG: a program written for DMTCP's dmtcp.h (plugins/dmtcp)
# checkpoints itself (dmtcp_checkpoint), is killed and restarted
# (DMTCP_AFTER_RESTART), then keeps a checkpoint the harness asks for out of
# a dmtcp_disable_ckpt/dmtcp_enable_ckpt section. Without ckpt it runs too.
. "$(dirname "$0")/harness.sh"
prog=$1
h_init
[ "$("$prog")" = "no checkpointer" ] || h_fail "without ckpt the program did not run on its own"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog"
h_wait_line() {
  local deadline=$((SECONDS + H_WAIT))
  until grep -q "$1" "$out"; do
    h_gone "$H_APP_PID" && h_fail "program exited before '$1': $(cat "$out")"
    [ "$SECONDS" -lt "$deadline" ] || h_fail "no '$1' within ${H_WAIT} s: $(cat "$out")"
    sleep 0.02
  done
}
h_wait_line '^after checkpoint'
h_kill_app
h_restart "$out"
h_wait_line '^section start'
h_checkpoint
h_wait_app_exit
cat >"$H_TMP/expected.out" <<'END'
enabled
generation before any checkpoint: 0
generation after the checkpoint: grown
after checkpoint: image in the checkpoint directory, 1 checkpoint(s)
after restart: 1 restart(s), image known, generation grown
section start
checkpoints inside the section: 0
the delayed checkpoint was taken after the section
END
diff -u "$H_TMP/expected.out" "$out" || h_fail "output differs from the expected sequence"
echo PASS
