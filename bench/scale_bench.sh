#!/bin/bash
# Prints how a checkpoint's cost grows (issue 11, "Scale"): with memory size,
# processes, threads and mappings. For each size it prints the wall time of
# ckpt_command --checkpoint (images durable, compressed), the images' size,
# and the time from starting the restart script until the coordinator has
# every process running again; then the marginal cost of each step (time
# added per unit added), of the checkpoint and of the restart. A cost that
# grows no faster than linearly keeps its marginal cost flat or falling; a
# step whose marginal cost is more than twice the step before (and adds more
# than 50 ms) is marked "SUPER-LINEAR?".
#
#   memory     256 MiB .. 8 GiB written (sparse: one page in 256 written,
#              where the machine has not the memory for it)
#   processes  1 .. 64 processes of 4 MiB each
#   threads    1 .. 512 threads of one process
#   mappings   1,024 .. 65,536 one-page mappings (vm.max_map_count allowing;
#              raised when we may, else the largest size is left out)
#
# usage: scale_bench.sh [--quick] [DIMENSION...]   (run from the build tree:
#        build/bench/scale_bench.sh; --quick: the smaller sizes only)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CKPT_BIN=${CKPT_BIN:-$(cd "$here/../bin" && pwd)}
PROG=$here/scale_bench
export PATH="$CKPT_BIN:$PATH"

quick=
[ "${1:-}" = --quick ] && { quick=1; shift; }
dimensions=("$@")
[ ${#dimensions[@]} -gt 0 ] || dimensions=(memory processes threads mappings)

work=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-scale.XXXXXX")
coord_pid=
app_pid=
saved_map_count=
cleanup() {
  [ -n "$app_pid" ] && kill -KILL "$app_pid" 2>/dev/null
  [ -n "$saved_map_count" ] && echo "$saved_map_count" >/proc/sys/vm/max_map_count
  [ -n "$coord_pid" ] && kill "$coord_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

now_us() { echo "${EPOCHREALTIME/./}"; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
# wait_for SECONDS COND_CMD...: polls COND_CMD every 10 ms.
wait_for() {
  local limit=$(($1 * 100)) i
  shift
  for ((i = 0; i < limit; i++)); do "$@" && return 0; sleep 0.01; done
  echo "scale_bench.sh: timed out waiting for: $*" >&2
  exit 1
}
gone() { ! kill -0 "$1" 2>/dev/null; }
spawn() {
  sh -c 'out=$1 err=$2; shift 2; "$@" >>"$out" 2>>"$err" </dev/null & echo $!' sh "$@"
}
# status_is PROCESSES RESTARTS: the coordinator has PROCESSES running and
# RESTARTS restarts finished.
status_is() {
  ckpt_command --status --json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if s["processes"] == int(sys.argv[1]) and s["state"] == "RUNNING" and s["restarts_finished"] >= int(sys.argv[2]) else 1)' "$1" "$2"
}

coord_pid=$(spawn "$work/coordinator.log" "$work/coordinator.log" ckpt_coordinator --port 0 --port-file "$work/port")
wait_for 30 test -s "$work/port"
export CKPT_COORD_HOST=localhost CKPT_COORD_PORT=$(cat "$work/port")
restarts=0

# measure PROCESSES SECONDS MODE ARG...: launches scale_bench MODE ARG...,
# waits until PROCESSES processes run, checkpoints, kills, restarts, kills;
# sets ckpt_ms, image_mib, restart_ms. SECONDS bounds each wait.
measure() {
  local procs=$1 limit=$2 dir=$work/ckpt out=$work/app.out
  shift 2
  rm -rf "$dir" "$out"
  app_pid=$(spawn "$out" "$work/app.err" ckpt_launch --join --ckptdir "$dir" "$PROG" "$@")
  wait_for "$limit" grep -q ready "$out"
  wait_for "$limit" status_is "$procs" "$restarts"
  local start
  start=$(now_us)
  ckpt_command --checkpoint >/dev/null
  ckpt_ms=$((($(now_us) - start) / 1000))
  image_mib=$(find "$dir" -name '*.ckpt' -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }')
  ckpt_command --kill >/dev/null
  wait_for "$limit" gone "$app_pid"
  start=$(now_us)
  app_pid=$(spawn "$out" "$work/restart.err" "$dir/ckpt_restart_script.sh")
  restarts=$((restarts + 1))
  wait_for "$limit" status_is "$procs" "$restarts"
  restart_ms=$((($(now_us) - start) / 1000))
  ckpt_command --kill >/dev/null
  wait_for "$limit" gone "$app_pid"
  app_pid=
  rm -rf "$dir"
}

# curve NAME UNIT: prints the header of a curve; point SIZE prints a line
# from the last measure and the marginal cost since the previous point.
prev_size= prev_ms= prev_marginal= prev_rms= prev_rmarginal=
curve() {
  printf '\n%s\n' "$1"
  printf '  %-14s %12s %12s %12s   %s\n' "$2" "checkpoint" "images" "restart" "marginal cost: checkpoint, restart"
  prev_size= prev_ms= prev_marginal= prev_rms= prev_rmarginal=
}
# growth MARGINAL PREV_MARGINAL MS PREV_MS: " SUPER-LINEAR?" when the step's
# cost per unit more than doubled and the step added more than 50 ms.
growth() {
  [ -n "$2" ] && awk "BEGIN { exit !($1 > 2 * $2 && $3 - $4 > 50 && $1 > 0) }" && echo " SUPER-LINEAR?"
  true
}
point() {
  local size=$1 label=$2 note=""
  if [ -n "$prev_size" ]; then
    local marginal rmarginal
    marginal=$(calc "($ckpt_ms - $prev_ms) / ($size - $prev_size)")
    rmarginal=$(calc "($restart_ms - $prev_rms) / ($size - $prev_size)")
    note="$marginal ms$(growth "$marginal" "$prev_marginal" "$ckpt_ms" "$prev_ms"), $rmarginal ms$(growth \
      "$rmarginal" "$prev_rmarginal" "$restart_ms" "$prev_rms") per $3 added"
    prev_marginal=$marginal prev_rmarginal=$rmarginal
  fi
  printf '  %-14s %9s ms %8s MiB %9s ms   %s\n' "$label" "$ckpt_ms" "$image_mib" "$restart_ms" "$note"
  prev_size=$size prev_ms=$ckpt_ms prev_rms=$restart_ms
}

printf 'ckpt scaling: images compressed and durable in %s, load average %s\n' "${TMPDIR:-/tmp}" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"

for dimension in "${dimensions[@]}"; do
  case $dimension in
    memory)
      sizes=(256 512 1024 2048 4096 8192)
      [ -n "$quick" ] && sizes=(256 512 1024)
      avail_mib=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) / 1024))
      curve "memory (every page written, or sparse where noted)" "MiB"
      for mib in "${sizes[@]}"; do
        # The program's memory, the image writer's copy-on-write, page cache.
        if [ $((mib * 3 / 2 + 1024)) -le "$avail_mib" ]; then
          measure 1 600 memory "$mib"
          point "$mib" "$mib" MiB
        else
          measure 1 600 sparse "$mib"
          point "$mib" "$mib sparse" MiB
        fi
      done
      ;;
    processes)
      sizes=(1 4 16 64)
      [ -n "$quick" ] && sizes=(1 4 16)
      curve "processes (4 MiB written each)" "processes"
      for n in "${sizes[@]}"; do
        measure "$n" 300 processes "$n" 4096
        point "$n" "$n" process
      done
      ;;
    threads)
      sizes=(1 8 64 512)
      [ -n "$quick" ] && sizes=(1 8 64)
      curve "threads (one process)" "threads"
      for n in "${sizes[@]}"; do
        measure 1 300 threads "$n"
        point "$n" "$n" thread
      done
      ;;
    mappings)
      sizes=(1024 4096 16384 65536)
      [ -n "$quick" ] && sizes=(1024 4096 16384)
      limit=$(cat /proc/sys/vm/max_map_count)
      if [ "$limit" -lt $((65536 + 1024)) ] && [ -z "$quick" ]; then
        # Raised for this run only (put back on exit).
        if echo $((65536 + 4096)) 2>/dev/null >/proc/sys/vm/max_map_count; then
          saved_map_count=$limit
          limit=$(cat /proc/sys/vm/max_map_count)
        fi
      fi
      curve "mappings (one page each, vm.max_map_count $limit)" "mappings"
      for n in "${sizes[@]}"; do
        if [ $((n + 1024)) -gt "$limit" ]; then
          printf '  %-14s left out: vm.max_map_count is %s (raising it needs root)\n' "$n" "$limit"
          continue
        fi
        measure 1 300 mappings "$n"
        point "$n" "$n" mapping
      done
      ;;
    *)
      echo "scale_bench.sh: unknown dimension '$dimension' (memory, processes, threads, mappings)" >&2
      exit 2
      ;;
  esac
done
