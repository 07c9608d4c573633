#!/bin/bash
# lazy_restart.sh MODE [LAUNCH_OPTION...]: the lazy restart (issue 11), of
# compressed images, or of uncompressed ones with --no-compress (their data
# is in checked chunks too, loaded by the same page server).
# Where userfaultfd may be had (root, or vm.unprivileged_userfaultfd=1) the
# restarted process runs before its memory is in, and its log says when all
# of it came; elsewhere ckpt_restart says, on one line, that the restart is
# eager instead. Either way the final output is the uninterrupted run's.
#   memory:  it_known_memory (hundreds of MiB: random, text, zero pages),
#            every step checksums all of it
#   again:   a checkpoint at once after the lazy restart, then a kill and a
#            restart from that image
#   churn:   it_lazy_churn forks, madvise(DONTNEED)s, munmaps and mremaps
#            its memory at every step, right after the restart too
#   corrupt: a byte of a chunk's stored bytes flipped: one line naming the
#            checksum mismatch, and no step printed with a wrong sum
. "$(dirname "$0")/harness.sh"
mode=$1
shift
h_init
# The restarted process logs when all its memory came in (at info).
export CKPT_LOG=info
lazy=0
if [ "$(id -u)" = 0 ] || [ "$(cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null)" = 1 ]; then lazy=1; fi
case $mode in
  churn) prog=("$H_PROGRAMS/it_lazy_churn" 192 30 20) ;;
  corrupt) prog=("$H_PROGRAMS/it_known_memory" 64 32 32 1 30 100) ;;
  again) prog=("$H_PROGRAMS/it_known_memory" 384 64 64 256 12 50) ;;
  *) prog=("$H_PROGRAMS/it_known_memory" 128 64 64 256 24 50) ;;
esac
name=$(basename "${prog[0]}")
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator --keep 4
out=$H_TMP/actual.out
h_launch "$out" "$@" -- "${prog[@]}"
h_wait_step "$out" 3
h_checkpoint
h_kill_app

restarts=0
# lazy_or_eager: the restart was lazy here (its log says all memory came
# in) or, without userfaultfd, said why it was not.
lazy_or_eager() {
  if [ "$lazy" = 1 ]; then
    local deadline=$((SECONDS + H_WAIT))
    until grep -qh "lazy restart: all memory in" "$H_TMP"/logs/*.log 2>/dev/null; do
      [ "$SECONDS" -lt "$deadline" ] || h_fail "the restarted process never logged that all its memory came in"
      sleep 0.05
    done
    ! grep -q "lazy restart unavailable" "$H_TMP/restart.err" || h_fail "ckpt_restart fell back to an eager restart"
    h_log "$(grep -h "lazy restart: all memory in" "$H_TMP"/logs/*.log | tail -n 1)"
  else
    # One line per restart (restart.err gathers them all).
    restarts=$((restarts + 1))
    local deadline=$((SECONDS + H_WAIT))
    until [ "$(grep -c "^ckpt_restart: lazy restart unavailable" "$H_TMP/restart.err")" -ge "$restarts" ]; do
      [ "$SECONDS" -lt "$deadline" ] || h_fail "no userfaultfd here, and ckpt_restart did not say its restart is eager"
      sleep 0.05
    done
    h_log "eager: $(grep -h "lazy restart unavailable" "$H_TMP/restart.err" | tail -n 1)"
  fi
}

case $mode in
  memory | churn)
    h_restart "$out"
    lazy_or_eager
    h_wait_app_exit
    ;;
  again)
    h_restart "$out"
    # As soon as the coordinator takes it (it refuses one while the restart
    # is under way): most of the memory is still coming in, and the
    # checkpoint must wait for it.
    deadline=$((SECONDS + H_WAIT))
    until h_command --checkpoint >"$H_TMP/command.log" 2>&1; do
      [ "$SECONDS" -lt "$deadline" ] || h_fail "no checkpoint after the restart: $(cat "$H_TMP/command.log")"
      sleep 0.01
    done
    h_log "checkpoint right after the restart: $(head -n 1 "$H_TMP/command.log")"
    lazy_or_eager
    if [ "$lazy" = 1 ]; then
      grep -h "waited .* for the lazy restart" "$H_TMP"/logs/*.log ||
        h_fail "the checkpoint right after the restart did not wait for the memory still coming in"
    fi
    h_kill_app
    image=$(ls "$H_CKPTDIR"/ckpt_${name}_*_g2.ckpt) || h_fail "no image of generation 2"
    "$CKPT_BIN/ckpt_info" --json "$image" >"$H_TMP/info.json" || h_fail "ckpt_info cannot read $image"
    python3 -c 'import json, sys; i = json.load(open(sys.argv[1])); i = i[0] if isinstance(i, list) else i; assert not i["incremental"], i["mode"]' \
      "$H_TMP/info.json" || h_fail "the checkpoint right after a lazy restart must be full"
    rm -f "$H_TMP"/logs/*.log
    h_restart "$out"
    lazy_or_eager
    h_wait_app_exit
    ;;
  corrupt)
    image=$(ls "$H_CKPTDIR"/ckpt_${name}_*_g1.ckpt) || h_fail "no image of generation 1"
    "$CKPT_BIN/ckpt_info" --json "$image" >"$H_TMP/info.json" || h_fail "ckpt_info cannot read $image"
    # A byte inside the stored bytes of the first chunk of the largest
    # region (the random buffer: private anonymous memory, loaded lazily).
    offset=$(python3 -c '
import json, sys
i = json.load(open(sys.argv[1])); i = i[0] if isinstance(i, list) else i
r = max(i["regions"], key=lambda r: r["data_size"])
print(r["data_offset"] + 16 + 4096)' "$H_TMP/info.json") || h_fail "cannot locate a chunk in $image"
    python3 -c '
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xFF]))' "$image" "$offset"
    h_restart "$out"
    h_wait_exit "$H_APP_PID" || h_fail "the restart of a corrupted image did not end"
    [ "$H_STATUS" -ne 0 ] || h_fail "the restart of a corrupted image succeeded"
    errors=$(grep -c "checksum mismatch" "$H_TMP/restart.err")
    [ "$errors" -eq 1 ] || h_fail "expected one line naming the checksum mismatch, got: $(cat "$H_TMP/restart.err")"
    h_log "refused: $(grep "checksum mismatch" "$H_TMP/restart.err")"
    # Whatever ran before the bad chunk was needed printed right sums only.
    python3 - "$H_TMP/expected.out" "$out" <<'PY' || h_fail "a step after the restart printed a wrong sum"
import sys
expected = dict(l.split()[1:3] for l in open(sys.argv[1]) if l.startswith("step "))
for l in open(sys.argv[2]):
    if l.startswith("step "):
        _, n, s = l.split()
        assert expected[n] == s, (n, s, expected[n])
PY
    echo PASS
    exit 0
    ;;
  *) h_fail "unknown mode $mode" ;;
esac
h_compare "$H_TMP/expected.out" "$out"
echo PASS
