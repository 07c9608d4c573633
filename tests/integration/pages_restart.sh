#!/bin/bash
# pages_restart.sh MODE MAX_IMAGE_KIB [LAUNCH_OPTION...]
# it_sparse_pages MODE (sparse, zero or file) runs uninterrupted, then under
# ckpt_launch with LAUNCH_OPTIONs through two rounds of checkpoint, kill and
# restart (the second checkpoints the restarted process, whose memory came
# back from the first image). Each image must stay within MAX_IMAGE_KIB
# (what the mapped memory would take if every page were stored is far
# more), ckpt_info must count the pages left out, and the final output must
# match the uninterrupted run's.
. "$(dirname "$0")/harness.sh"
[ $# -ge 2 ] || { echo "usage: $0 MODE MAX_IMAGE_KIB [LAUNCH_OPTION...]" >&2; exit 2; }
mode=$1 max_kib=$2
shift 2
h_init
prog=("$H_PROGRAMS/it_sparse_pages" "$mode" 40 100)
if [ "$mode" = file ]; then
  # A data file of 326 pages, none of them zero.
  seq 1 250000 >"$H_TMP/data.txt"
  prog+=("$H_TMP/data.txt")
fi
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" "$@" -- "${prog[@]}"
target=4
for generation in 1 2; do
  h_wait_step "$out" "$target"
  h_checkpoint
  if [ "$mode" = sparse ]; then
    # The write tracker protects only pages that exist: protecting the
    # missing ones would give the 1 TiB reservation 2 GiB of page tables
    # (and a checkpoint of 20 s, most of it frozen).
    for pid in $(pgrep -f "it_sparse_pages sparse"); do
      pte=$(awk '/^VmPTE:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
      [ -z "$pte" ] || [ "$pte" -le 65536 ] || h_fail "pid $pid has $pte KiB of page tables after checkpoint $generation"
    done
  fi
  image=$(ls "$H_CKPTDIR"/ckpt_it_sparse_pages_*_g$generation.ckpt)
  kib=$(($(stat -c %s "$image") / 1024))
  h_log "generation $generation: image $kib KiB"
  [ "$kib" -le "$max_kib" ] || h_fail "image of generation $generation has $kib KiB, more than $max_kib"
  "$CKPT_BIN/ckpt_info" --json "$image" >"$H_TMP/info.json" || h_fail "ckpt_info cannot read $image"
  python3 - "$H_TMP/info.json" "$mode" <<'PY' || h_fail "ckpt_info does not show the pages left out (see above)"
import json, sys
info, mode = json.load(open(sys.argv[1])), sys.argv[2]
info = info[0] if isinstance(info, list) else info
regions = info["regions"]
# After a restart a mapping may come back as several regions (the pages
# mapped from the image apart from the rest): sums over regions, not one.
def stored(rs): return sum(r["stored_pages"] for r in rs)
def skipped(rs): return sum(r["skipped_pages"] for r in rs)
if mode == "sparse":
    big = [r for r in regions if r["size"] >= 1 << 30]
    assert sum(r["size"] for r in big) >= 1 << 40, "no 1 TiB of regions"
    # (a restart may merge the 256 MiB mapping into the 1 TiB one)
    assert stored(big) <= 4 + 40 and skipped(big) >= (1 << 28) - 4, (stored(big), skipped(big))
    anon = [r for r in regions if "anonymous" in r["flags"]]
    assert skipped(anon) >= (1 << 28) + (1 << 16) - 64, skipped(anon)
elif mode == "zero":
    r = [r for r in regions if r["size"] == 16 << 20]
    assert r, "no region of 16 MiB"
    third = 4096 // 3
    assert third <= r[0]["skipped_pages"] <= third + 2, r[0]["skipped_pages"]
else:
    data = [r for r in regions if r["path"].endswith("/data.txt")]
    backed = [r for r in data if "file_backed" in r["flags"] and r["backing_file"]["size"] > 0]
    assert backed, "no file-backed region of data.txt"
    # The zeroed page and one page per step at most; the rest is the file's.
    assert stored(data) <= 40 and skipped(backed) >= sum(r["pages"] for r in backed) - 40, data
assert info["totals"]["skipped_pages"] > 0
PY
  h_kill_app
  target=$(($(h_max_step "$out") + 2))
  h_restart "$out"
done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo "PASS"
