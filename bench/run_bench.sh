#!/bin/bash
# Prints ckpt's performance numbers for a process with 1 GiB resident:
#   checkpoint time (ckpt_command --checkpoint wall time) and image size,
#     compressed and with --no-compress;
#   256 MiB mapped, one page written: what the image stores of that mapping
#     (target: at most 1 MiB, the rest of the image being the process's
#     other memory and metadata), and the whole image;
#   restart time: from starting ckpt_restart until the program runs again;
#   runtime overhead under ckpt_launch vs natively: open/close/getpid rounds,
#     and a shell loop that forks and execs /bin/true;
#   ckpt_launch /bin/true latency.
#
# usage: run_bench.sh [MIB]   (default 1024; run from the build tree:
#        build/bench/run_bench.sh, or: cmake --build build --target bench)
# Needs MIB of free memory plus room for two images under $TMPDIR (/tmp).
set -euo pipefail

MIB=${1:-1024}
here=$(cd "$(dirname "$0")" && pwd)
CKPT_BIN=${CKPT_BIN:-$(cd "$here/../bin" && pwd)}
BENCH=$here/ckpt_bench
export PATH="$CKPT_BIN:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench.XXXXXX")
coord_pid=
app_pid=
cleanup() {
  [ -n "$app_pid" ] && kill -KILL "$app_pid" 2>/dev/null
  [ -n "$coord_pid" ] && kill "$coord_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { echo $((($(now_us) - $1) / 1000)); }
# wait_for COND_CMD...: polls for up to 120 s.
wait_for() {
  local i
  for ((i = 0; i < 12000; i++)); do "$@" && return 0; sleep 0.01; done
  echo "run_bench.sh: timed out waiting for: $*" >&2
  exit 1
}
gone() { ! kill -0 "$1" 2>/dev/null; }
# spawn OUT ERR CMD...: starts CMD in the background, appending to OUT and ERR,
# and prints its pid. CMD is a grandchild (reparented once sh exits), so
# killing it later draws no "Killed" job report from this shell.
spawn() {
  sh -c 'out=$1 err=$2; shift 2; "$@" >>"$out" 2>>"$err" </dev/null & echo $!' sh "$@"
}

coord_pid=$(spawn "$work/coordinator.log" "$work/coordinator.log" ckpt_coordinator --port 0 --port-file "$work/port")
wait_for test -s "$work/port"
export CKPT_COORD_HOST=localhost CKPT_COORD_PORT=$(cat "$work/port")

printf 'ckpt benchmark: %d MiB resident, images in %s\n\n' "$MIB" "${TMPDIR:-/tmp}"

# checkpoint_restart LABEL [LAUNCH_OPTION...]
checkpoint_restart() {
  local label=$1 dir=$work/ckpt-$1 out=$work/$1.out marker=$work/$1.resumed
  shift
  app_pid=$(spawn "$out" "$work/$label.err" ckpt_launch --join --ckptdir "$dir" "$@" "$BENCH" memory "$MIB" "$marker")
  wait_for grep -q ready "$out"

  local start
  start=$(now_us)
  ckpt_command --checkpoint >/dev/null
  local ckpt_ms
  ckpt_ms=$(ms_since "$start")
  local size
  size=$(find "$dir" -name '*.ckpt' -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }')

  ckpt_command --kill >/dev/null
  wait_for gone "$app_pid"

  start=$(now_us)
  app_pid=$(spawn "$out" "$work/$label.restart.err" "$dir/ckpt_restart_script.sh")
  wait_for test -s "$marker"
  local resumed_us restart_ms
  resumed_us=$(($(cut -d' ' -f1 "$marker") / 1000))
  restart_ms=$(((resumed_us - start) / 1000))
  ckpt_command --kill >/dev/null
  wait_for gone "$app_pid"
  app_pid=
  rm -rf "$dir"
  printf '%-14s checkpoint %6d ms   image %8s MiB   restart until running %6d ms\n' \
    "$label" "$ckpt_ms" "$size" "$restart_ms"
}

checkpoint_restart compressed
checkpoint_restart uncompressed --no-compress

# sparse_image: 256 MiB mapped, one page written.
sparse_image() {
  local dir=$work/ckpt-sparse out=$work/sparse.out
  app_pid=$(spawn "$out" "$work/sparse.err" ckpt_launch --join --no-compress --ckptdir "$dir" "$BENCH" sparse 256)
  wait_for grep -q ready "$out"
  ckpt_command --checkpoint >/dev/null
  ckpt_command --kill >/dev/null
  wait_for gone "$app_pid"
  app_pid=
  local image
  image=$(find "$dir" -name '*.ckpt' | head -n 1)
  # The mapping's stored bytes, from the image's own record of it.
  ckpt_info --json "$image" | python3 -c '
import json, sys
img = json.load(sys.stdin)[0]
r = next(r for r in img["regions"] if r["size"] == 256 << 20)
total = img["file_size"]
verdict = "PASS" if r["data_size"] <= 1 << 20 else "MISS"
print("256 MiB mapped, one page written: mapping stores %.1f KiB (%d of %d pages), image %.1f MiB"
      "   target <= 1 MiB + metadata   %s" % (r["data_size"] / 1024, r["stored_pages"], r["pages"],
                                               total / 1048576, verdict))'
  rm -rf "$dir"
}
sparse_image
echo

# Overhead of running under ckpt_launch.
rounds=200000
native=$("$BENCH" syscalls "$rounds")
under=$(ckpt_launch --join "$BENCH" syscalls "$rounds")
printf 'open/close/getpid round   native %6d ns   under ckpt_launch %6d ns   overhead %+d%%\n' \
  "$native" "$under" $(((under - native) * 100 / native))

execs=300
loop="for ((i = 0; i < $execs; i++)); do /bin/true; done"
start=$(now_us)
bash -c "$loop"
native=$(($(ms_since "$start") * 1000 / execs))
start=$(now_us)
ckpt_launch --join bash -c "$loop"
under=$(($(ms_since "$start") * 1000 / execs))
printf 'fork+exec /bin/true       native %6d us   under ckpt_launch %6d us   overhead %+d%%\n' \
  "$native" "$under" $(((under - native) * 100 / (native > 0 ? native : 1)))

runs=100
start=$(now_us)
for ((i = 0; i < runs; i++)); do /bin/true; done
native=$((($(now_us) - start) / runs))
start=$(now_us)
for ((i = 0; i < runs; i++)); do ckpt_launch /bin/true; done
under=$((($(now_us) - start) / runs))
printf 'launch latency            /bin/true %6d us   ckpt_launch /bin/true %6d us\n' "$native" "$under"
