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

# The image, and where its parts lie, from ckpt_info --json: the damage is
# done at the offsets it reports, with no copy of the header layout here.
image=
for f in "$H_CKPTDIR"/*; do
  [ -f "$f" ] && "$CKPT_BIN/ckpt_info" --json "$f" >"$H_TMP/image.json" 2>/dev/null && image=$f && break
done
[ -n "$image" ] || h_fail "no checkpoint image that ckpt_info reads in $H_CKPTDIR"
size=$(stat -c %s "$image")
h_log "image $image ($size bytes)"
# where WHAT: an offset (header field NAME, "data": inside the first
# region's data, "meta_end": the metadata's last bytes), then the field's size.
where() {
  python3 -c '
import json, sys
img = json.load(open(sys.argv[1]))[0]
what = sys.argv[2]
if what == "data":
    r = next(r for r in img["regions"] if r["data_size"] > 128)
    print(r["data_offset"] + 64, 1)
elif what == "meta_end":
    print(img["meta_offset"] + img["meta_size"] - 16, 1)
else:
    f = img["header_fields"][what]
    print(f["offset"], f["size"])' "$H_TMP/image.json" "$1" || h_fail "cannot locate $1 in the image"
}
# damage SRC DST OFFSET SIZE flip|VALUE: a copy of SRC with the SIZE bytes at
# OFFSET inverted, or replaced by VALUE (little-endian). Checksums are left
# as they are: the reader must notice the damage by itself.
damage() {
  python3 -c '
import sys
src, dst, off, size, how = sys.argv[1:]
off, size = int(off), int(size)
data = bytearray(open(src, "rb").read())
if how == "flip":
    data[off:off + size] = bytes(b ^ 0xFF for b in data[off:off + size])
else:
    data[off:off + size] = int(how).to_bytes(size, "little")
open(dst, "wb").write(data)' "$@" || h_fail "cannot write $2"
}

bad=$H_TMP/bad
mkdir "$bad"
: >"$bad/empty.ckpt"
head -c $((size / 2)) "$image" >"$bad/truncated.ckpt"
# A header field that is checked after the header's checksum.
damage "$image" "$bad/header-bitflip.ckpt" $(where file_size) flip
# Data is checked after everything else, the image's name included: this
# one keeps its name.
mkdir "$bad/data-bitflip"
data_bitflip=$bad/data-bitflip/$(basename "$image")
damage "$image" "$data_bitflip" $(where data) flip
damage "$image" "$bad/metadata-bitflip.ckpt" $(where meta_end) flip
# Version and architecture are checked before the checksum (another version
# may lay its header out differently), so these need no checksum of their own.
damage "$image" "$bad/wrong-version.ckpt" $(where version) 99
damage "$image" "$bad/other-arch.ckpt" $(where arch) 183
printf 'just some text, not an image\n' >"$bad/text.ckpt"
cp "$CKPT_BIN/ckpt_launch" "$bad/elf.ckpt"

failures=0
# expect NAME FILE REGEX: one restart attempt, judged. Eager (--no-lazy):
# it refuses damaged data before anything runs; a lazy restart finds a
# damaged chunk when it loads it (lazy_restart.sh corrupt).
expect() {
  local name=$1 file=$2 regex=$3 status=0 err=$H_TMP/restart-$1.err
  timeout -k 5 30 "$CKPT_BIN/ckpt_restart" --no-lazy --coord-host localhost --coord-port "$H_PORT" "$file" \
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
expect data-bitflip "$data_bitflip" 'checksum|crc|corrupt'
expect metadata-bitflip "$bad/metadata-bitflip.ckpt" 'checksum|crc|corrupt'
expect wrong-version "$bad/wrong-version.ckpt" 'version'
expect other-arch "$bad/other-arch.ckpt" 'arch|machine'
expect text-file "$bad/text.ckpt" 'not a .*image|magic'
expect elf-file "$bad/elf.ckpt" 'not a .*image|magic'
[ "$failures" -eq 0 ] || h_fail "$failures bad input(s) not refused cleanly"

# ckpt_info shows a bad image as an entry with its reason, in the same array
# as the good ones, and exits 1.
status=0
"$CKPT_BIN/ckpt_info" --json "$image" "$bad/truncated.ckpt" >"$H_TMP/info.json" 2>"$H_TMP/info.err" || status=$?
[ "$status" -eq 1 ] || h_fail "ckpt_info on a truncated image exited with $status"
python3 -c '
import json, sys
good, bad = json.load(open(sys.argv[1]))
assert "error" not in good and good["sections"], good.keys()
assert set(bad) == {"image", "error"} and "truncated" in bad["error"], bad' "$H_TMP/info.json" ||
  h_fail "ckpt_info --json did not list the good image and the bad one's reason"

# Positive control: the intact image restarts and finishes the run.
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
