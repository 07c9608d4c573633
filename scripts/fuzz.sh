#!/bin/bash
# Builds the libFuzzer targets of tests/fuzz with clang (a -DCKPT_FUZZ=ON
# tree of their own, with ASan and UBSan) and runs each for a bounded time
# on the seed corpus kept in the repository (tests/fuzz/corpus/TARGET/).
# Fails if any target finds a crash, a leak, a sanitizer report or a hang;
# the input that did it is kept and printed (base64) so it can be replayed:
#   build-fuzz/bin/TARGET_fuzzer FILE
#
# usage: scripts/fuzz.sh [TARGET...]   (default: every target)
# Settings:
#   CKPT_FUZZ_SECONDS   run time of each target (default 45)
#   CKPT_FUZZ_DIR       build tree (default: $CKPT_SRC/build-fuzz); inputs
#                       that found new coverage accumulate in its found/
#   CKPT_FUZZ_MAKE_SEEDS=1  before fuzzing, remake the seeds in the
#                       repository (tests/fuzz/make_seeds.cpp; the image and
#                       section ones from a checkpoint of test programs,
#                       which needs the normal build in $CKPT_BUILD_DIR)
. "$(dirname "$0")/common.sh"

CKPT_FUZZ_DIR=${CKPT_FUZZ_DIR:-$CKPT_SRC/build-fuzz}
CKPT_FUZZ_SECONDS=${CKPT_FUZZ_SECONDS:-45}
CORPUS=$CKPT_SRC/tests/fuzz/corpus
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(protocol image section options)

install_deps
# A tree configured otherwise is remade: CMake drops the other -D settings
# (CKPT_FUZZ) when it sees the compiler change.
cache=$CKPT_FUZZ_DIR/CMakeCache.txt
if [ -f "$cache" ] && ! { grep -q '^CKPT_FUZZ:BOOL=ON$' "$cache" &&
  grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*/$CKPT_CLANGXX\$" "$cache"; }; then
  rm -rf "$cache" "$CKPT_FUZZ_DIR/CMakeFiles"
fi
say "configuring $CKPT_FUZZ_DIR (clang, libFuzzer, ASan, UBSan)"
cmake -S "$CKPT_SRC" -B "$CKPT_FUZZ_DIR" -DCKPT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CKPT_CLANG" -DCMAKE_CXX_COMPILER="$CKPT_CLANGXX" >/dev/null
say "building the fuzz targets with $CKPT_JOBS jobs"
cmake --build "$CKPT_FUZZ_DIR" -j "$CKPT_JOBS"

if [ "${CKPT_FUZZ_MAKE_SEEDS:-0}" = 1 ]; then
  say "remaking the seeds in $CORPUS"
  "$CKPT_SRC/tests/fuzz/make_seeds.sh" "$CKPT_BUILD_DIR" "$CKPT_FUZZ_DIR/bin/make_seeds" "$CORPUS"
fi

# Runs one target; its one-line result goes to $CKPT_FUZZ_DIR/result-TARGET.
fuzz_target() {
  local t=$1
  local bin=$CKPT_FUZZ_DIR/bin/${t}_fuzzer
  local found=$CKPT_FUZZ_DIR/found/$t
  local artifacts=$CKPT_FUZZ_DIR/artifacts/$t
  local log=$CKPT_FUZZ_DIR/fuzz-$t.log
  local result=$CKPT_FUZZ_DIR/result-$t
  rm -rf "$artifacts" "$result"
  mkdir -p "$found" "$artifacts"
  local dict=()
  [ -f "$CKPT_SRC/tests/fuzz/$t.dict" ] && dict=(-dict="$CKPT_SRC/tests/fuzz/$t.dict")
  say "fuzzing $t for $CKPT_FUZZ_SECONDS s (seeds: $(ls "$CORPUS/$t" | wc -l) in tests/fuzz/corpus/$t)"
  # New inputs go to found/ (the first directory); the repository's seeds
  # are only read. -timeout: one input taking longer is a hang, reported
  # as a crash.
  local rc=0
  "$bin" -max_total_time="$CKPT_FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict[@]}" "$found" "$CORPUS/$t" >"$log" 2>&1 || rc=$?
  local runs speed cov
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    echo "$t: ok, ${runs:-?} inputs (${speed:-?}/s), $cov" >"$result"
    return 0
  fi
  echo "$t: FAILED (exit $rc), see $log" >"$result"
  {
    grep -E '^(==[0-9]+==|SUMMARY|    #[0-9]+ )' "$log" | head -40
    for a in "$artifacts"/*; do
      [ -f "$a" ] && printf '%s (base64): %s\n' "$a" "$(base64 -w0 "$a")"
    done
  } >>"$result"
  return 1
}

# The targets run $CKPT_JOBS at a time (one core each): CI's time is bounded.
status=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$CKPT_JOBS" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  fuzz_target "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done

say "fuzzing summary (build and runs took $SECONDS s)"
for t in "${targets[@]}"; do
  sed 's/^/  /' "$CKPT_FUZZ_DIR/result-$t" 2>/dev/null || { echo "  $t: no result"; status=1; }
done
exit "$status"
