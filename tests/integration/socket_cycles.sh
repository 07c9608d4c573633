#!/bin/bash
# socket_cycles.sh CYCLES QUEUE MIN_BYTES -- CMD...: the standard cycle test
# (h_cycle_test: checkpoint, kill, restart CYCLES times; the output must
# match an uninterrupted run's), and after every checkpoint the images must
# hold the bytes in flight of the program's connections: sections QUEUE.<ino>
# (sock.out for TCP, drained by the exchange; sock.in for UNIX sockets,
# copied from receive queues) in at least two images, each of at least
# MIN_BYTES, i.e. both directions held data. Every socket must be saved
# (section "sockets", decoded by ckpt_info), none as outside the computation.
. "$(dirname "$0")/harness.sh"
[ $# -ge 5 ] && [ "$4" = -- ] || { echo "usage: $0 CYCLES QUEUE MIN_BYTES -- CMD..." >&2; exit 2; }
cycles=$1 queue=$2 min_bytes=$3
shift 4

check_images() {
  local gen=$1
  python3 - "$CKPT_BIN/ckpt_info" "$queue" "$min_bytes" "$H_CKPTDIR"/*_g"$gen".ckpt <<'PY' || h_fail "checkpoint $gen: the images do not hold the bytes in flight"
import json, subprocess, sys
info, queue, min_bytes, images = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
full = 0
for image in images:
    doc = json.loads(subprocess.run([info, "--json", image], check=True, capture_output=True, text=True).stdout)[0]
    sections = {s["name"]: s for s in doc["sections"]}
    sockets = sections.get("sockets")
    assert sockets and "content" in sockets, f"{image}: no decoded section sockets"
    for s in sockets["content"]["sockets"]:
        assert s["peer_kind"] in ("none", "inside"), f"{image}: fd {s['fd']} is {s['peer_kind']}"
    sizes = [s["size"] for name, s in sections.items() if name.startswith(queue + ".")]
    print(f"{image}: {queue} sections of {sizes} bytes", file=sys.stderr)
    full += any(size >= min_bytes for size in sizes)
assert full >= 2, f"only {full} images hold {min_bytes} bytes or more in flight"
PY
}

h_init
h_reference "$H_TMP/expected.out" "$@"
h_start_coordinator
out=$H_TMP/actual.out
target=3
h_launch "$out" -- "$@"
for ((cycle = 1; cycle <= cycles; cycle++)); do
  h_wait_step "$out" "$target"
  h_checkpoint
  check_images "$cycle"
  h_kill_app
  target=$(($(h_max_step "$out") + 2))
  h_restart "$out"
done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
