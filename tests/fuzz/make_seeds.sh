#!/bin/bash
# make_seeds.sh BUILD_DIR MAKE_SEEDS CORPUS: remakes the fuzzers' seeds in
# CORPUS. The image and section seeds come from one checkpoint of test
# programs, run with the tools of the normal build in BUILD_DIR: one
# holding a descriptor of each kind, one holding io_uring and netlink
# (accepted as lost, so a warnings section), one with a timer and a pending signal, one with threads,
# written uncompressed; and, for the section seeds of every kind, programs
# holding shared memory (fork and memfd), System V IPC, POSIX message
# queues, POSIX timers, sockets, event descriptors and a pty.
# MAKE_SEEDS (make_seeds.cpp) cuts them down; the image seeds keep three
# images only (fewer bytes fuzz faster).
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
kinds=(loss_holder shm_counters shm_memfd sysv_pipeline mq_pipeline posix_timers socket_kinds event_loop)
# Each runs well past the checkpoint (their arguments make them last).
launch --accept-loss "$progs/it_loss_holder" both 1 400 20 none
launch "$progs/it_shm_counters" 3 100000 40
launch "$progs/it_shm_memfd" 100000 30
touch "$work/sysv.key"
launch "$progs/it_sysv_pipeline" "$work/sysv.key" 200 40
mq=/ckpt-seeds-$$
launch "$progs/it_mq_pipeline" "$mq" 400 20
launch "$progs/it_posix_timers" 60 10
launch "$progs/it_socket_kinds" messages 400
# A path map, for the path section's seeds.
launch --path-map "/ckpt-seeds-virtual=$work/data" "$progs/it_event_loop" 400
launch python3 "$progs/pty_closed.py" 10
sleep 3
"$bin/ckpt_command" --checkpoint
"$bin/ckpt_command" --kill
"$progs/it_mq_pipeline" --unlink "$mq" || true
for p in fd_kinds signals_timer threads_queue "${kinds[@]}"; do
  i=0
  for f in "$work"/ck/ckpt_it_${p}_*.ckpt; do cp "$f" "$work/images/$p.$((i++)).ckpt"; done
done
i=0
for f in "$work"/ck/ckpt_python3_*.ckpt; do cp "$f" "$work/images/pty.$((i++)).ckpt"; done
rm -rf "$corpus/image" "$corpus/section"
# fd_kinds first: a section seed comes from the first image that has it,
# and fd_kinds' "fds" holds every descriptor kind.
"$make_seeds" "$corpus" "$work"/images/fd_kinds.*.ckpt $(ls "$work"/images/*.ckpt | grep -v /fd_kinds)
# Three cut-down images cover both encodings; the others gave their sections.
find "$corpus/image" -type f ! -name fd_kinds.0.lz4.ckpt ! -name signals_timer.0.raw.ckpt \
  ! -name threads_queue.0.lz4.ckpt -delete
chmod 644 "$corpus"/*/*
