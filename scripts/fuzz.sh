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

status=0
summary=()
for t in "${targets[@]}"; do
  bin=$CKPT_FUZZ_DIR/bin/${t}_fuzzer
  found=$CKPT_FUZZ_DIR/found/$t
  artifacts=$CKPT_FUZZ_DIR/artifacts/$t
  log=$CKPT_FUZZ_DIR/fuzz-$t.log
  rm -rf "$artifacts"
  mkdir -p "$found" "$artifacts"
  dict=()
  [ -f "$CKPT_SRC/tests/fuzz/$t.dict" ] && dict=(-dict="$CKPT_SRC/tests/fuzz/$t.dict")
  say "fuzzing $t for $CKPT_FUZZ_SECONDS s (seeds: $(ls "$CORPUS/$t" | wc -l) in tests/fuzz/corpus/$t)"
  # New inputs go to found/ (the first directory); the repository's seeds
  # are only read. -timeout: one input taking longer is a hang, reported
  # as a crash.
  rc=0
  "$bin" -max_total_time="$CKPT_FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict[@]}" "$found" "$CORPUS/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    summary+=("$t: ok, ${runs:-?} inputs (${speed:-?}/s), $cov")
  else
    status=1
    summary+=("$t: FAILED (exit $rc), see $log")
    grep -E '^(==[0-9]+==|SUMMARY|    #[0-9]+ )' "$log" | head -40
    for a in "$artifacts"/*; do
      [ -f "$a" ] && printf '%s (base64): %s\n' "$a" "$(base64 -w0 "$a")"
    done
  fi
done

say "fuzzing summary (build and runs took $SECONDS s)"
printf '  %s\n' "${summary[@]}"
exit "$status"
