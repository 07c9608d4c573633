#!/bin/bash
# Builds and installs ckpt, then shows a checkpoint/kill/restart cycle:
# a counter runs under ckpt_launch, is checkpointed, killed, and restarted
# from its image by the generated ckpt_restart_script.sh, and goes on
# counting from where the checkpoint was taken.
#
# Installs into $CKPT_PREFIX (default: install/ in the repository).
. "$(dirname "$0")/common.sh"
CKPT_PREFIX=${CKPT_PREFIX:-$CKPT_SRC/install}

install_deps
build
say "installing into $CKPT_PREFIX"
cmake --install "$CKPT_BUILD_DIR" --prefix "$CKPT_PREFIX" >/dev/null
export PATH="$CKPT_PREFIX/bin:$PATH"

demo=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
coord_pid=
app_pid=
# reap PID: waits for a background job without bash's "Killed" job report.
reap() { { wait "$1"; } 2>/dev/null || true; }
cleanup() {
  [ -n "$coord_pid" ] && { ckpt_command --kill >/dev/null 2>&1 || true; kill "$coord_pid" 2>/dev/null || true; }
  [ -n "$app_pid" ] && { kill -KILL "$app_pid" 2>/dev/null || true; reap "$app_pid"; }
  [ -n "$coord_pid" ] && reap "$coord_pid"
  rm -rf "$demo"
}
trap cleanup EXIT
cc -O2 -o "$demo/counter" "$CKPT_SRC/scripts/demo_counter.c"

say "starting a coordinator on a free port"
ckpt_coordinator --port 0 --port-file "$demo/port" >"$demo/coordinator.log" 2>&1 &
coord_pid=$!
for _ in $(seq 100); do [ -s "$demo/port" ] && break; sleep 0.05; done
[ -s "$demo/port" ] || { echo "ckpt_coordinator did not start:" >&2; cat "$demo/coordinator.log" >&2; exit 1; }
export CKPT_COORD_PORT=$(cat "$demo/port")
echo "coordinator listening on port $CKPT_COORD_PORT"

say "ckpt_launch --ckptdir $demo/ckpt ./counter > counter.out"
ckpt_launch --join --ckptdir "$demo/ckpt" "$demo/counter" >"$demo/counter.out" 2>"$demo/counter.err" &
app_pid=$!
sleep 3
echo "counter output so far: $(tail -n 1 "$demo/counter.out")"

say "ckpt_command --checkpoint"
ckpt_command --checkpoint
at_checkpoint=$(tail -n 1 "$demo/counter.out")
echo "checkpoint taken at: $at_checkpoint"

sleep 2
say "ckpt_command --kill (the counter went on to: $(tail -n 1 "$demo/counter.out"))"
ckpt_command --kill
reap "$app_pid"
app_pid=
echo "killed; last line written: $(tail -n 1 "$demo/counter.out")"

say "$demo/ckpt/ckpt_restart_script.sh"
size_before=$(stat -c %s "$demo/counter.out")
"$demo/ckpt/ckpt_restart_script.sh" >>"$demo/counter.out" 2>"$demo/restart.err" &
app_pid=$!
sleep 3
if ! kill -0 "$app_pid" 2>/dev/null; then
  echo "the restarted counter is not running:" >&2
  cat "$demo/restart.err" >&2
  exit 1
fi
# The restored counter writes through its restored stdout; its lines after the
# restart are those past the checkpoint, wherever in the file they landed.
echo "restarted counter output (checkpoint was at '$at_checkpoint'):"
if [ "$(stat -c %s "$demo/counter.out")" -gt "$size_before" ]; then
  tail -c +"$((size_before + 1))" "$demo/counter.out" | head -n 8 | sed 's/^/  /'
else
  grep -A 7 -x "$at_checkpoint" "$demo/counter.out" | sed 's/^/  /'
fi
echo "now at: $(tail -n 1 "$demo/counter.out")"

say "ckpt_command --kill; done"
ckpt_command --kill >/dev/null
