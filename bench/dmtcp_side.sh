# Sourced by run_bench.sh when DMTCP_PREFIX names a DMTCP installation
# (DMTCP_PREFIX/bin/dmtcp_launch ...): the same workloads under DMTCP, for
# the column beside ckpt's. Nothing of DMTCP is built or shipped here.
#
# Uses run_bench.sh's spawn, wait_for, gone, now_us, us_since, calc,
# drop_caches, $work, $BENCH and $MIB; sets the d_* figures.

DMTCP_BIN=$DMTCP_PREFIX/bin
for tool in dmtcp_coordinator dmtcp_launch dmtcp_command dmtcp_restart; do
  [ -x "$DMTCP_BIN/$tool" ] || { echo "run_bench.sh: DMTCP_PREFIX=$DMTCP_PREFIX has no bin/$tool" >&2; exit 2; }
done

dmtcp_coord_pid=
dmtcp_port=
# dmtcp_start_coordinator: one coordinator for every DMTCP run of the bench
# (as ckpt's side joins one), quit by dmtcp_stop_coordinator.
dmtcp_start_coordinator() {
  mkdir -p "$work/dmtcp-scripts"
  dmtcp_coord_pid=$(spawn "$work/dmtcp-coordinator.log" "$work/dmtcp-coordinator.log" \
    "$DMTCP_BIN/dmtcp_coordinator" -p 0 --port-file "$work/dmtcp-port" --ckptdir "$work/dmtcp-scripts")
  wait_for test -s "$work/dmtcp-port"
  dmtcp_port=$(cat "$work/dmtcp-port")
}
dmtcp_stop_coordinator() {
  [ -n "$dmtcp_coord_pid" ] || return 0
  "$DMTCP_BIN/dmtcp_command" -p "$dmtcp_port" --quit >/dev/null 2>&1 || kill "$dmtcp_coord_pid" 2>/dev/null
  dmtcp_coord_pid=
}
dmtcp_cmd() { "$DMTCP_BIN/dmtcp_command" -p "$dmtcp_port" "$@" >/dev/null 2>&1; }
# The coordinator counts the processes it has; 0 once a killed run is gone.
dmtcp_peers() { "$DMTCP_BIN/dmtcp_command" -p "$dmtcp_port" -s 2>/dev/null | sed -n 's/^ *NUM_PEERS=//p'; }
dmtcp_no_peers() { [ "$(dmtcp_peers)" = 0 ]; }

# timed_bcheckpoint MARKER: a blocking checkpoint of every process; sets
# took_us (its wall time) and gap_us (the program's longest stall).
timed_bcheckpoint() {
  local start
  start=$(now_us)
  dmtcp_cmd --bcheckpoint
  took_us=$(us_since "$start")
  wait_for test -s "$1.gap"
  sleep 0.05
  gap_us=$(cat "$1.gap")
}

# dmtcp_checkpoint_restart LABEL [DMTCP_LAUNCH_OPTION...]: as ckpt's
# checkpoint_restart, under DMTCP: sets d_ckpt_us, d_image_mib, d_image_bytes,
# d_pause_us, d_restart_us, d_second_us, d_second_bytes, d_second_pause_us.
# DMTCP writes whole images while the program is frozen: its pause is its
# checkpoint, and the program's 1 ms loop sees a gap over 200 ms, so the
# marker is removed before the restart that is timed.
dmtcp_checkpoint_restart() {
  local label=dmtcp-$1 dir=$work/dmtcp-$1 out=$work/dmtcp-$1.out marker=$work/dmtcp-$1.resumed
  shift
  mkdir -p "$dir"
  app_pid=$(spawn "$out" "$work/$label.err" "$DMTCP_BIN/dmtcp_launch" -p "$dmtcp_port" --ckptdir "$dir" "$@" \
    "$BENCH" memory "$MIB" "$marker")
  wait_for grep -q ready "$out"
  wait_for test -s "$marker.gap"
  sleep 0.2
  rm -f "$marker.gap"
  sleep 0.05

  timed_bcheckpoint "$marker"
  d_ckpt_us=$took_us d_pause_us=$gap_us
  mkdir -p "$dir/first"
  mv "$dir"/*.dmtcp "$dir/first/"
  d_image_bytes=$(find "$dir/first" -name '*.dmtcp' -printf '%s\n' | awk '{ s += $1 } END { print s }')
  d_image_mib=$(calc "$d_image_bytes / 1048576")

  touch "$marker.touch"
  wait_for test -e "$marker.touched"
  rm -f "$marker.touched" "$marker.gap"
  sleep 0.05
  timed_bcheckpoint "$marker"
  d_second_us=$took_us d_second_pause_us=$gap_us
  d_second_bytes=$(find "$dir" -maxdepth 1 -name '*.dmtcp' -printf '%s\n' | awk '{ s += $1 } END { print s }')

  dmtcp_cmd --kill
  wait_for gone "$app_pid"
  wait_for dmtcp_no_peers
  rm -f "$marker"
  drop_caches

  local start
  start=$(now_us)
  app_pid=$(spawn "$out" "$work/$label.restart.err" "$DMTCP_BIN/dmtcp_restart" -p "$dmtcp_port" "$dir"/first/*.dmtcp)
  wait_for test -s "$marker"
  local resumed_us
  resumed_us=$(($(cut -d' ' -f1 "$marker") / 1000))
  d_restart_us=$((resumed_us - start))
  dmtcp_cmd --kill
  wait_for gone "$app_pid"
  wait_for dmtcp_no_peers
  app_pid=
  rm -rf "$dir"
}

# The sparse image: what DMTCP stores for 256 MiB mapped, one page written.
dmtcp_sparse_image() {
  local dir=$work/dmtcp-sparse out=$work/dmtcp-sparse.out
  mkdir -p "$dir"
  app_pid=$(spawn "$out" "$work/dmtcp-sparse.err" "$DMTCP_BIN/dmtcp_launch" -p "$dmtcp_port" --ckptdir "$dir" \
    --no-gzip "$BENCH" sparse 256)
  wait_for grep -q ready "$out"
  dmtcp_cmd --bcheckpoint
  dmtcp_cmd --kill
  wait_for gone "$app_pid"
  wait_for dmtcp_no_peers
  app_pid=
  d_sparse_bytes=$(find "$dir" -name '*.dmtcp' -printf '%s\n' | awk '{ s += $1 } END { print s }')
  rm -rf "$dir"
}

# Runtime workloads under dmtcp_launch, for runtime_ratio's third side.
fork_exec_dmtcp() {
  local s
  s=$(now_us)
  "$DMTCP_BIN/dmtcp_launch" -p "$dmtcp_port" bash -c "$exec_loop" 2>>"$work/dmtcp-runtime.err"
  echo $(($(us_since "$s") / execs))
}
syscalls_dmtcp() { "$DMTCP_BIN/dmtcp_launch" -p "$dmtcp_port" "$BENCH" syscalls "$rounds" 2>>"$work/dmtcp-runtime.err"; }
launch_dmtcp() {
  local s i
  s=$(now_us)
  for ((i = 0; i < launches; i++)); do
    "$DMTCP_BIN/dmtcp_launch" -p "$dmtcp_port" /bin/true 2>>"$work/dmtcp-runtime.err"
  done
  echo $(($(us_since "$s") / launches))
}

# dmtcp_measure: every DMTCP figure (gzip is DMTCP's default compression).
dmtcp_measure() {
  dmtcp_start_coordinator
  dmtcp_checkpoint_restart compressed
  c_d_ckpt_us=$d_ckpt_us c_d_image_mib=$d_image_mib c_d_pause_us=$d_pause_us c_d_restart_us=$d_restart_us
  c_d_image_bytes=$d_image_bytes c_d_second_us=$d_second_us c_d_second_bytes=$d_second_bytes
  c_d_second_pause_us=$d_second_pause_us
  dmtcp_checkpoint_restart uncompressed --no-gzip
  r_d_pause_us=$d_pause_us r_d_restart_us=$d_restart_us
  dmtcp_sparse_image
}
