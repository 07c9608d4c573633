#!/bin/bash
# self_checkpoint.sh PROG: a program checkpoints itself through the public API
# (ckpt_checkpoint) with atcheckpoint/atrestart callbacks, is killed, and is
# restarted; its whole output must be exactly the expected sequence.
. "$(dirname "$0")/harness.sh"
prog=$1
h_init
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog"
deadline=$((SECONDS + H_WAIT))
until grep -q '^ckpt_checkpoint: checkpointed$' "$out"; do
  h_gone "$H_APP_PID" && h_fail "program exited before its checkpoint: $(cat "$out")"
  [ "$SECONDS" -lt "$deadline" ] || h_fail "no self-checkpoint within ${H_WAIT} s: $(cat "$out")"
  sleep 0.02
done
h_kill_app
h_restart "$out"
h_wait_app_exit
cat >"$H_TMP/expected.out" <<'END'
step 1
step 2
step 3
atcheckpoint first
atcheckpoint second
ckpt_checkpoint: checkpointed
atrestart first
atrestart second
ckpt_checkpoint: restarted
step 4
step 5
step 6
END
diff -u "$H_TMP/expected.out" "$out" || h_fail "output differs from the expected sequence"
h_log "callbacks and ckpt_checkpoint() results are as expected"
