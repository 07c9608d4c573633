#!/bin/bash
# Prints what sockets cost a checkpoint: PROCS processes (default 16) in a
# ring of TCP connections, without connections (none), idle and then busy (every connection streaming as
# fast as it can, its buffers full):
#   pause: the longest stall any process saw around a checkpoint (each
#     process times the gaps between iterations of its 1 ms loop), which
#     includes draining every connection;
#   checkpoint: ckpt_command --checkpoint wall time;
#   restart: from starting the restart script until every process runs again.
#
# usage: socket_bench.sh [PROCS]   (from the build tree: build/bench/socket_bench.sh)
set -euo pipefail
PROCS=${1:-16}
here=$(cd "$(dirname "$0")" && pwd)
CKPT_BIN=${CKPT_BIN:-$(cd "$here/../bin" && pwd)}
export PATH="$CKPT_BIN:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-socket-bench.XXXXXX")
coord_pid=
cleanup() {
  [ -n "$coord_pid" ] && ckpt_command --coord-port "$CKPT_COORD_PORT" --kill >/dev/null 2>&1 || true
  [ -n "$coord_pid" ] && kill "$coord_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
now_us() { echo "${EPOCHREALTIME/./}"; }
wait_for() {
  local i
  for ((i = 0; i < 12000; i++)); do "$@" && return 0; sleep 0.01; done
  echo "socket_bench.sh: timed out waiting for: $*" >&2
  exit 1
}
spawn() { sh -c 'out=$1 err=$2; shift 2; "$@" >>"$out" 2>>"$err" </dev/null & echo $!' sh "$@"; }
export CKPT_SECRET_FILE=$work/secret
coord_pid=$(spawn "$work/coordinator.log" "$work/coordinator.log" ckpt_coordinator --port 0 --port-file "$work/port")
wait_for test -s "$work/port"
export CKPT_COORD_HOST=localhost CKPT_COORD_PORT=$(cat "$work/port")
all_alive() { [ "$(ls "$1"/alive.* 2>/dev/null | wc -l)" -eq "$PROCS" ]; }
# all_moved DIR SNAPSHOT: every process counted on since SNAPSHOT (the
# counters are not removed: a restart reopens the files the processes had open).
all_moved() { ! cat "$1"/alive.* | paste - "$2" | awk '$1 == $2 { bad = 1 } END { exit !bad }'; }
max_of() { cat "$1"/$2.* | sort -n | tail -1; }

printf 'ckpt socket benchmark: %d processes in a ring of TCP connections\n\n' "$PROCS"
printf '%-6s %12s %14s %12s %14s\n' mode "pause (ms)" "checkpoint (ms)" "restart (ms)" "image bytes"
for mode in none idle busy; do
  dir=$work/$mode
  mkdir -p "$dir/state"
  spawn "$dir/out" "$dir/err" ckpt_launch --join --ckptdir "$dir/ckpt" "$here/socket_bench" "$PROCS" "$mode" "$dir/state" >/dev/null
  wait_for grep -q ready "$dir/out"
  wait_for all_alive "$dir/state"
  sleep 1
  touch "$dir/state/reset"
  sleep 0.2
  start=$(now_us)
  ckpt_command --checkpoint >"$dir/command.log"
  ckpt_ms=$((($(now_us) - start) / 1000))
  sleep 0.3
  pause_ms=$(($(max_of "$dir/state" gap) / 1000))
  bytes=$(du -cb "$dir"/ckpt/*.ckpt | tail -1 | cut -f1)
  ckpt_command --kill >/dev/null
  sleep 0.5
  cat "$dir"/state/alive.* >"$dir/snapshot"
  start=$(now_us)
  spawn "$dir/restart.out" "$dir/restart.err" bash "$dir/ckpt/ckpt_restart_script.sh" >/dev/null
  wait_for all_moved "$dir/state" "$dir/snapshot"
  restart_ms=$((($(now_us) - start) / 1000))
  printf '%-6s %12s %14s %12s %14s\n' "$mode" "$pause_ms" "$ckpt_ms" "$restart_ms" "$bytes"
  ckpt_command --kill >/dev/null
  sleep 0.3
done
