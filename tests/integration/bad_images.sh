#!/bin/bash
# bad_images.sh: ckpt_restart must refuse damaged or foreign images cleanly.
# For each bad input: non-zero exit status below 128 (no crash, no hang), and
# exactly one line on stderr that names the file and the problem. A positive
# control first restarts the intact image, so the refusals cannot come from
# ckpt_restart failing on everything.
. "$(dirname "$0")/harness.sh"
h_init
prog=("$H_PROGRAMS/it_heap_churn" 8 30 50)
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "${prog[@]}"
h_wait_step "$out" 3
h_checkpoint
h_kill_app

image=
for f in "$H_CKPTDIR"/*; do
  [ -f "$f" ] && python3 "$H_SELF_DIR/image_tool.py" is-image "$f" && image=$f && break
done
[ -n "$image" ] || h_fail "no checkpoint image (file starting with the image magic) in $H_CKPTDIR"
size=$(stat -c %s "$image")
h_log "image $image ($size bytes)"

bad=$H_TMP/bad
mkdir "$bad"
tool() { python3 "$H_SELF_DIR/image_tool.py" "$@" || h_fail "image_tool.py $* failed"; }
: >"$bad/empty.ckpt"
tool truncate "$image" "$bad/truncated.ckpt" 0.5
tool flip "$image" "$bad/header-bitflip.ckpt" 20
tool flip "$image" "$bad/data-bitflip.ckpt" 4160
tool flip "$image" "$bad/metadata-bitflip.ckpt" -16
tool set-field "$image" "$bad/wrong-version.ckpt" version 99
tool set-field "$image" "$bad/other-arch.ckpt" arch 183
printf 'just some text, not an image\n' >"$bad/text.ckpt"
cp "$CKPT_BIN/ckpt_launch" "$bad/elf.ckpt"

failures=0
# expect NAME FILE REGEX: one restart attempt, judged.
expect() {
  local name=$1 file=$2 regex=$3 status=0 err=$H_TMP/restart-$1.err
  timeout -k 5 30 "$CKPT_BIN/ckpt_restart" --coord-host localhost --coord-port "$H_PORT" "$file" \
    >/dev/null 2>"$err" </dev/null || status=$?
  local lines problem=
  lines=$(grep -c . "$err")
  if [ "$status" -eq 0 ]; then
    problem="exit status 0"
  elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    problem="hung (killed after 30 s)"
  elif [ "$status" -ge 128 ]; then
    problem="crashed (exit status $status, signal $((status - 128)))"
  elif [ "$lines" -ne 1 ]; then
    problem="$lines lines on stderr instead of one"
  elif ! grep -qF "$(basename "$file")" "$err"; then
    problem="message does not name the file"
  elif ! grep -qiE "$regex" "$err"; then
    problem="message does not say what is wrong (expected /$regex/)"
  fi
  if [ -n "$problem" ]; then
    echo "FAIL $name: $problem; stderr:" >&2
    sed 's/^/    /' "$err" >&2
    failures=$((failures + 1))
  else
    echo "ok   $name (exit $status): $(cat "$err")"
  fi
}
expect missing "$bad/missing.ckpt" 'no such file|not found|does not exist|cannot open'
expect empty "$bad/empty.ckpt" 'empty|truncated|too short|too small'
expect truncated "$bad/truncated.ckpt" 'truncated|too short|too small|short read'
expect header-bitflip "$bad/header-bitflip.ckpt" 'checksum|crc|corrupt'
expect data-bitflip "$bad/data-bitflip.ckpt" 'checksum|crc|corrupt'
expect metadata-bitflip "$bad/metadata-bitflip.ckpt" 'checksum|crc|corrupt'
expect wrong-version "$bad/wrong-version.ckpt" 'version'
expect other-arch "$bad/other-arch.ckpt" 'arch|machine'
expect text-file "$bad/text.ckpt" 'not a .*image|magic'
expect elf-file "$bad/elf.ckpt" 'not a .*image|magic'
[ "$failures" -eq 0 ] || h_fail "$failures bad input(s) not refused cleanly"

# Positive control: the intact image restarts and finishes the run.
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
