#!/bin/bash
# dmtcp_plugin.sh PROG LIB: a program with a DMTCP-style plugin (PROG, two
# processes) and a preloaded DMTCP_DECL_PLUGIN library (LIB) go through a
# checkpoint, then two checkpoint/kill/restart cycles. Their hooks count the
# events and synchronise with dmtcp_global_barrier at PRESUSPEND, RESUME and
# RESTART; the final counts must be exactly what DMTCP's event order gives
# (README, "DMTCP compatibility"). Without ckpt the program runs too.
. "$(dirname "$0")/harness.sh"
prog=$1 lib=$2
h_init
[ "$("$prog")" = "no checkpointer" ] || h_fail "without ckpt the program did not run on its own"
h_start_coordinator
export PLUGIN_DIR=$H_TMP/markers
mkdir -p "$PLUGIN_DIR"
out=$H_TMP/actual.out
h_launch "$out" --with-plugin "$lib" -- "$prog"
h_wait_procs 2
# Both processes exist and are past their start-up.
deadline=$((SECONDS + H_WAIT))
until [ -e "$PLUGIN_DIR/ready.parent" ] && [ -e "$PLUGIN_DIR/ready.child" ]; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "the processes did not start"
  sleep 0.05
done
h_checkpoint
for cycle in 1 2; do
  h_checkpoint
  h_kill_app
  h_restart "$out"
  h_wait_procs 2
done
touch "$PLUGIN_DIR/finish"
h_wait_app_exit
# Three checkpoints began (PRESUSPEND, PRECHECKPOINT); the first one resumed
# (RESUME) in the processes that go on; the images of the last two were taken
# before their RESUME, and each restart brings RESTART. RUNNING follows the
# first checkpoint and each restart. The declared plugin counts the three.
cat >"$H_TMP/expected.out" <<'END'
child: init=1 presuspend=3 precheckpoint=3 resume=1 restart=2 running=3 barriers=6 violations=0 declared-plugin-presuspend=3
parent: init=1 presuspend=3 precheckpoint=3 resume=1 restart=2 running=3 barriers=6 violations=0 declared-plugin-presuspend=3
END
diff -u "$H_TMP/expected.out" "$out" || h_fail "the plugins' counts differ from DMTCP's event order"
echo PASS
