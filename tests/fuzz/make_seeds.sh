#!/bin/bash
# make_seeds.sh BUILD_DIR MAKE_SEEDS CORPUS: remakes the fuzzers' seeds in
# CORPUS. The image and section seeds come from one checkpoint of three
# test programs, run with the tools of the normal build in BUILD_DIR: one
# holding a descriptor of each kind (with a lost pty, so a warnings
# section), one with a timer and a pending signal, one with threads,
# written uncompressed. MAKE_SEEDS (make_seeds.cpp) cuts them down.
set -euo pipefail
build=$1 make_seeds=$2 corpus=$3
bin=$build/bin progs=$build/tests/integration/bin
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/ck" "$work/data" "$work/images"
export TMPDIR=$work
"$bin/ckpt_coordinator" --port 0 --port-file "$work/port" --daemon --log "$work/coordinator.log" --exit-on-last
export CKPT_COORD_PORT=$(cat "$work/port")
launch() { "$bin/ckpt_launch" --join --ckptdir "$work/ck" "$@" >/dev/null 2>&1 & }
launch --accept-loss "$progs/it_fd_kinds" "$work/data"
launch "$progs/it_signals_timer" 400 10
launch --no-compress "$progs/it_threads_queue"
sleep 1.5
"$bin/ckpt_command" --checkpoint
"$bin/ckpt_command" --kill
for p in fd_kinds signals_timer threads_queue; do cp "$work"/ck/ckpt_it_${p}_*.ckpt "$work/images/$p.ckpt"; done
rm -rf "$corpus/image" "$corpus/section"
"$make_seeds" "$corpus" "$work"/images/*.ckpt
# Three cut-down images cover both encodings; fewer bytes fuzz faster.
rm -f "$corpus/image/fd_kinds.raw.ckpt" "$corpus/image/signals_timer.lz4.ckpt" "$corpus/image/threads_queue.raw.ckpt"
chmod 644 "$corpus"/*/*
