#!/bin/bash
# Prints ckpt's performance figures (issue 11's table), each with its target
# and PASS or MISS. Every ratio is taken within this run: the native side and
# the dd reference are measured here, on this machine, next to ckpt's.
#
#   application pause      longest stall the program saw around a checkpoint
#   compressed checkpoint  wall time of ckpt_command --checkpoint (images
#                          durable), against dd bs=1M count=MIB conv=fsync
#                          written to the same directory as the images
#   second checkpoint      after the compressed checkpoint, the program rewrites
#                          1% of its pages and is checkpointed again (an
#                          incremental image): time and image bytes against
#                          the first's
#   sparse image           256 MiB mapped, one page written: what the image
#                          stores of that mapping (ckpt_info's record of it)
#   restart                from starting ckpt_restart until the program runs
#                          again, compressed and --no-compress images (the page
#                          cache is dropped first when we may); both restarts
#                          are lazy (the image's memory comes in after the
#                          program runs, chunk by chunk, where userfaultfd
#                          may be had: root), and each one's time until all
#                          of its memory is in is reported next to it
#   fork+exec              300 x /bin/true from bash, under ckpt_launch / native
#   open/close/getpid      200k rounds, under ckpt_launch / native
#   ckpt_launch /bin/true  wall time per launch
#
# The runtime ratios take the fastest of a few alternating rounds of each
# side: on a loaded machine the fastest round is the one least disturbed.
#
# When DMTCP_PREFIX names a DMTCP installation (DMTCP_PREFIX/bin/dmtcp_launch),
# the same workloads also run under DMTCP (bench/dmtcp_side.sh) and a last
# column prints its figures beside ckpt's.
#
# usage: run_bench.sh [MIB]   (default 1024; run from the build tree:
#        build/bench/run_bench.sh, or: cmake --build build --target bench)
# Needs MIB of free memory plus room for two images and the dd file under
# $TMPDIR (/tmp).
set -euo pipefail

MIB=${1:-1024}
ROUNDS=${CKPT_BENCH_ROUNDS:-3}
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
  if declare -F dmtcp_stop_coordinator >/dev/null; then dmtcp_stop_coordinator; fi
  rm -rf "$work"
}
trap cleanup EXIT

now_us() { echo "${EPOCHREALTIME/./}"; }
us_since() { echo $(($(now_us) - $1)); }
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
# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
# min_of N...: the smallest.
min_of() { printf '%s\n' "$@" | sort -n | head -1; }

# ---- the one formatter ----------------------------------------------------
# row FIGURE MEASURED TARGET VERDICT [DMTCP]  (VERDICT: PASS, MISS, or "-"
# when there is nothing to judge; DMTCP: the same figure under DMTCP, printed
# when DMTCP_PREFIX is set)
row() {
  printf '%-36s %-46s %-30s %-7s' "$1" "$2" "$3" "$4"
  if [ -n "${DMTCP_PREFIX:-}" ]; then printf ' %s' "${5:-}"; fi
  printf '\n'
}
# verdict VALUE LIMIT: PASS when VALUE <= LIMIT.
verdict() { awk "BEGIN { print ($1 <= $2) ? \"PASS\" : \"MISS\" }"; }

# ---- measurements -----------------------------------------------------------
coord_pid=$(spawn "$work/coordinator.log" "$work/coordinator.log" ckpt_coordinator --port 0 --port-file "$work/port")
wait_for test -s "$work/port"
export CKPT_COORD_HOST=localhost CKPT_COORD_PORT=$(cat "$work/port")

# What drop_caches needs (root); otherwise restarts read the page cache.
cache_note="page cache dropped"
drop_caches() {
  sync
  echo 3 2>/dev/null >/proc/sys/vm/drop_caches || cache_note="page cache NOT dropped (not root)"
}

# checkpoint_restart LABEL [LAUNCH_OPTION...]: sets ckpt_us, image_mib,
# image_bytes, pause_us and restart_us for one image kind, and second_us,
# second_bytes and second_pause_us (the checkpoint after 1% of the pages were
# rewritten; the restart is still from the first image).
checkpoint_restart() {
  local label=$1 dir=$work/ckpt-$1 out=$work/$1.out marker=$work/$1.resumed
  shift
  # At CKPT_LOG=info a lazy restart's log says when all memory was in (the
  # restored process keeps the log settings it was launched with).
  mkdir -p "$work/logs-$label"
  app_pid=$(CKPT_LOG=info CKPT_LOG_DIR=$work/logs-$label spawn "$out" "$work/$label.err" \
    ckpt_launch --join --ckptdir "$dir" "$@" "$BENCH" memory "$MIB" "$marker")
  wait_for grep -q ready "$out"
  # The longest stall from here on is the checkpoint's.
  wait_for test -s "$marker.gap"
  sleep 0.2
  rm -f "$marker.gap"
  sleep 0.05

  local start said first
  start=$(now_us)
  said=$(ckpt_command --checkpoint)
  ckpt_us=$(us_since "$start")
  sleep 0.05
  pause_us=$(cat "$marker.gap")
  image_mib=$(find "$dir" -name '*.ckpt' -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }')
  first=$(sed -n 's/^checkpoint \([0-9]*\) written.*/\1/p' <<<"$said")
  image_bytes=$(find "$dir" -name "*_g$first.ckpt" -printf '%s\n' | awk '{ s += $1 } END { print s }')

  touch "$marker.touch"
  wait_for test -e "$marker.touched"
  rm -f "$marker.touched" "$marker.gap"
  sleep 0.05
  start=$(now_us)
  said=$(ckpt_command --checkpoint)
  second_us=$(us_since "$start")
  sleep 0.05
  second_pause_us=$(cat "$marker.gap")
  local second
  second=$(sed -n 's/^checkpoint \([0-9]*\) written.*/\1/p' <<<"$said")
  second_bytes=$(find "$dir" -name "*_g$second.ckpt" -printf '%s\n' | awk '{ s += $1 } END { print s }')

  ckpt_command --kill >/dev/null
  wait_for gone "$app_pid"
  drop_caches

  start=$(now_us)
  app_pid=$(CKPT_LOG=info spawn "$out" "$work/$label.restart.err" "$dir/ckpt_restart_g$first.sh")
  wait_for test -s "$marker"
  local resumed_us
  resumed_us=$(($(cut -d' ' -f1 "$marker") / 1000))
  restart_us=$((resumed_us - start))
  # A lazy restart's log says when all memory was in (ms after ckpt_restart
  # started); otherwise it was in before the program ran.
  loaded_ms=$((restart_us / 1000))
  restart_kind="eager"
  if grep -q "lazy restart unavailable" "$work/$label.restart.err"; then
    restart_kind="eager: no userfaultfd"
  elif [ "${CKPT_RESTART_NO_LAZY:-0}" = 1 ]; then
    restart_kind="eager: CKPT_RESTART_NO_LAZY"
  else
    local line=
    for ((i = 0; i < 3000; i++)); do
      line=$(grep -h "lazy restart: all memory in" "$work/logs-$label"/*.log 2>/dev/null | tail -n 1) && [ -n "$line" ] && break
      sleep 0.01
    done
    [ -n "$line" ] && loaded_ms=$(sed -n 's/.* \([0-9]*\) ms after ckpt_restart started.*/\1/p' <<<"$line") && restart_kind="lazy"
  fi
  ckpt_command --kill >/dev/null
  wait_for gone "$app_pid"
  app_pid=
  rm -rf "$dir"
}

# dd_reference: sets dd_us, writing MIB MiB durably where the images go.
dd_reference() {
  local start
  start=$(now_us)
  dd if=/dev/zero of="$work/dd.ref" bs=1M count="$MIB" conv=fsync status=none
  dd_us=$(us_since "$start")
  rm -f "$work/dd.ref"
}

# runtime_ratio NAME: alternates ROUNDS native and ROUNDS ckpt_launch runs of
# NAME_native / NAME_under (each prints its time) and sets native, under
# (the fastest of each) and ratio; with DMTCP_PREFIX, also NAME_dmtcp's
# rounds: dmtcp and dmtcp_ratio.
runtime_ratio() {
  local n=() u=() d=() i
  for ((i = 0; i < ROUNDS; i++)); do
    n+=("$("$1_native")")
    u+=("$("$1_under")")
    if [ -n "${DMTCP_PREFIX:-}" ]; then d+=("$("$1_dmtcp")"); fi
  done
  native=$(min_of "${n[@]}")
  under=$(min_of "${u[@]}")
  ratio=$(calc "$under / ($native > 0 ? $native : 1)")
  if [ -n "${DMTCP_PREFIX:-}" ]; then
    dmtcp=$(min_of "${d[@]}")
    dmtcp_ratio=$(calc "$dmtcp / ($native > 0 ? $native : 1)")
  fi
}

execs=300
exec_loop="for ((i = 0; i < $execs; i++)); do /bin/true; done"
fork_exec_native() {
  local s
  s=$(now_us)
  bash -c "$exec_loop"
  echo $(($(us_since "$s") / execs))
}
fork_exec_under() {
  local s
  s=$(now_us)
  ckpt_launch --join bash -c "$exec_loop"
  echo $(($(us_since "$s") / execs))
}

rounds=200000
syscalls_native() { "$BENCH" syscalls "$rounds"; }
syscalls_under() { ckpt_launch --join "$BENCH" syscalls "$rounds"; }

launches=100
launch_native() {
  local s i
  s=$(now_us)
  for ((i = 0; i < launches; i++)); do /bin/true; done
  echo $(($(us_since "$s") / launches))
}
launch_under() {
  local s i
  s=$(now_us)
  for ((i = 0; i < launches; i++)); do ckpt_launch /bin/true; done
  echo $(($(us_since "$s") / launches))
}

# ---- one function per row -------------------------------------------------
row_pause() {
  local worst=$((c_pause_us > r_pause_us ? c_pause_us : r_pause_us))
  row "application pause per checkpoint" "${c_pause_us} us compressed, ${r_pause_us} us raw" "<= 20 ms" \
    "$(verdict "$worst" 20000)" "${c_d_pause_us:-} us gzip, ${r_d_pause_us:-} us raw"
}

row_compressed_checkpoint() {
  local ms=$((c_ckpt_us / 1000)) dd_ms=$((dd_us / 1000))
  local d=
  if [ -n "${DMTCP_PREFIX:-}" ]; then
    d="$((c_d_ckpt_us / 1000)) ms, $c_d_image_mib MiB (gzip): $(calc "$c_d_ckpt_us / $dd_us") x dd"
  fi
  row "compressed checkpoint, durable" "$ms ms, $c_image_mib MiB; dd $dd_ms ms: $(calc "$c_ckpt_us / $dd_us") x dd" \
    "<= 0.8 x dd" "$(verdict "$c_ckpt_us" "0.8 * $dd_us")" "$d"
}

row_second_checkpoint() {
  local t b worst
  t=$(calc "100 * $c_second_us / $c_ckpt_us")
  b=$(calc "100 * $c_second_bytes / $c_image_bytes")
  worst=$(awk "BEGIN { print ($t > $b) ? $t : $b }")
  row "second checkpoint, 1% pages written" \
    "$((c_second_us / 1000)) ms ($t%), $(calc "$c_second_bytes / 1048576") MiB ($b%), pause $((c_second_pause_us / 1000)) ms" \
    "<= 5% of the first" "$(verdict "$worst" 5)" "$(second_dmtcp)"
}
second_dmtcp() {
  [ -n "${DMTCP_PREFIX:-}" ] || return 0
  echo "$((c_d_second_us / 1000)) ms ($(calc "100 * $c_d_second_us / $c_d_ckpt_us")%)," \
    "$(calc "$c_d_second_bytes / 1048576") MiB ($(calc "100 * $c_d_second_bytes / $c_d_image_bytes")%)," \
    "pause $((c_d_second_pause_us / 1000)) ms"
}

row_sparse_image() {
  local dir=$work/ckpt-sparse out=$work/sparse.out
  app_pid=$(spawn "$out" "$work/sparse.err" ckpt_launch --join --no-compress --ckptdir "$dir" "$BENCH" sparse 256)
  wait_for grep -q ready "$out"
  ckpt_command --checkpoint >/dev/null
  ckpt_command --kill >/dev/null
  wait_for gone "$app_pid"
  app_pid=
  local image stored
  image=$(find "$dir" -name '*.ckpt' | head -n 1)
  # The mapping's stored bytes, from the image's own record of it: "BYTES PAGES STORED_PAGES IMAGE_BYTES".
  read -r -a stored < <(ckpt_info --json "$image" | python3 -c '
import json, sys
img = json.load(sys.stdin)[0]
r = next(r for r in img["regions"] if r["size"] == 256 << 20)
print(r["data_size"], r["pages"], r["stored_pages"], img["file_size"])')
  rm -rf "$dir"
  row "256 MiB mapped, one page written" \
    "mapping stores $(calc "${stored[0]} / 1024") KiB (${stored[2]} of ${stored[1]} pages), image $(calc "${stored[3]} / 1048576") MiB" \
    "<= 1 MiB + metadata" "$(verdict "${stored[0]}" 1048576)" "${d_sparse_bytes:+image $(calc "${d_sparse_bytes:-0} / 1048576") MiB}"
}

row_restart() {
  local worst=$((c_restart_us > r_restart_us ? c_restart_us : r_restart_us))
  row "restart -> application running" "$((c_restart_us / 1000)) ms compressed, $((r_restart_us / 1000)) ms raw" \
    "<= 100 ms" "$(verdict "$worst" 100000)" \
    "${c_d_restart_us:+$((c_d_restart_us / 1000)) ms gzip, $((r_d_restart_us / 1000)) ms raw}"
  row "restart -> memory all in" "$c_loaded_ms ms compressed ($c_restart_kind), $r_loaded_ms ms raw ($r_restart_kind)" "-" "-"
}

row_fork_exec() {
  runtime_ratio fork_exec
  row "$execs x fork+exec /bin/true (bash)" "$ratio x native ($under us vs $native us each)" "<= 1.5 x native" \
    "$(verdict "$ratio" 1.5)" "${dmtcp_ratio:+$dmtcp_ratio x native ($dmtcp us each)}"
}

row_syscalls() {
  runtime_ratio syscalls
  row "$((rounds / 1000))k open/close/getpid" "$ratio x native ($under ns vs $native ns a round)" "<= 1.05 x native" \
    "$(verdict "$ratio" 1.05)" "${dmtcp_ratio:+$dmtcp_ratio x native ($dmtcp ns a round)}"
}

row_launch() {
  runtime_ratio launch
  row "ckpt_launch /bin/true" "$(calc "$under / 1000") ms (/bin/true alone $(calc "$native / 1000") ms)" "<= 5 ms" \
    "$(verdict "$under" 5000)" "${dmtcp:+$(calc "$dmtcp / 1000") ms}"
}

printf 'ckpt benchmark: %d MiB resident, images in %s, load average %s\n' "$MIB" "${TMPDIR:-/tmp}" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"

checkpoint_restart compressed
c_ckpt_us=$ckpt_us c_image_mib=$image_mib c_pause_us=$pause_us c_restart_us=$restart_us
c_loaded_ms=$loaded_ms c_restart_kind=$restart_kind
c_image_bytes=$image_bytes c_second_us=$second_us c_second_bytes=$second_bytes c_second_pause_us=$second_pause_us
checkpoint_restart uncompressed --no-compress
r_pause_us=$pause_us r_restart_us=$restart_us r_loaded_ms=$loaded_ms r_restart_kind=$restart_kind
if [ -n "${DMTCP_PREFIX:-}" ]; then
  . "$here/dmtcp_side.sh"
  dmtcp_measure
fi
dd_reference
printf 'restarts: %s\n\n' "$cache_note"

row "figure" "measured" "target" "verdict" "DMTCP ${DMTCP_PREFIX:-}"
row_pause
row_compressed_checkpoint
row_second_checkpoint
row_sparse_image
row_restart
row_fork_exec
row_syscalls
row_launch
