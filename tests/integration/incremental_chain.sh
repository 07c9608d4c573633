#!/bin/bash
# incremental_chain.sh [LAUNCH_OPTION...]: incremental checkpoints (issue 11).
# it_incr_pages (64 MiB, about 1% of the pages written per step, a page
# zeroed, one given back with MADV_DONTNEED and a small mapping replaced each
# step) is checkpointed five times: the first image is full, the other four
# incremental, each naming the one before as its parent (ckpt_info), each
# far smaller than the first (the second: under 10% of the first's bytes,
# with ckpt_info counting the pages it inherits). Then it is killed and
# restarted from the last image, whose restart assembles the chain of five,
# and from the middle one (generation 3); both runs must end with the
# uninterrupted run's output.
. "$(dirname "$0")/harness.sh"
h_init
prog=("$H_PROGRAMS/it_incr_pages" 64 36 250 5)
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator --keep 8
out=$H_TMP/actual.out
h_launch "$out" "$@" -- "${prog[@]}"
image_of() { ls "$H_CKPTDIR"/ckpt_it_incr_pages_*_g$1.ckpt; }
info() { "$CKPT_BIN/ckpt_info" --json "$(image_of "$1")" >"$H_TMP/info$1.json" || h_fail "ckpt_info cannot read generation $1"; }
step=3
for g in 1 2 3 4 5; do
  h_wait_step "$out" "$step"
  h_checkpoint
  info "$g"
  step=$(($(h_max_step "$out") + 1))
done
python3 - "$H_TMP" <<'PY' || h_fail "the chain of images is not what it should be (see above)"
import json, os, sys
tmp = sys.argv[1]
infos = {}
for g in range(1, 6):
    i = json.load(open(f"{tmp}/info{g}.json"))
    infos[g] = i[0] if isinstance(i, list) else i
first = infos[1]
assert not first["incremental"] and first["parent"] is None, first["mode"]
for g in range(2, 6):
    i = infos[g]
    assert i["incremental"] and i["mode"] == "incremental", (g, i["mode"])
    p = i["parent"]
    assert p["generation"] == g - 1, (g, p)
    assert p["image_id"] == infos[g - 1]["image_id"], (g, p, infos[g - 1]["image_id"])
    assert p["name"] == os.path.basename(infos[g - 1]["image"]), (g, p)
    t = i["totals"]
    assert t["inherited_pages"] > 10 * t["stored_pages"], (g, t)
second, size1 = infos[2]["file_size"], infos[1]["file_size"]
print(f"first image {size1} bytes, second {second} bytes ({100.0 * second / size1:.1f}%)")
assert second * 10 < size1, (second, size1)
PY
h_kill_app
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
# From the middle of the chain: generation 3 needs 2 and 1.
out3=$H_TMP/from3.out
cp "$out" "$out3"
cp "$out.bounds" "$out3.bounds"
H_RESTART_SCRIPT=$H_CKPTDIR/ckpt_restart_g3.sh h_restart "$out3"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out3"
echo PASS
