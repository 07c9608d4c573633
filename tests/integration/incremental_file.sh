#!/bin/bash
# incremental_file.sh: incremental images of a private file mapping. A data
# file mapped privately, a page written per step (it_sparse_pages file), is
# checkpointed three times: the third image is incremental and its region of
# the file inherits copied pages from the one before (ckpt_info), while the
# pages never written still come from the file. Restarted from the third
# image, the run must end as the uninterrupted one.
. "$(dirname "$0")/harness.sh"
h_init
seq 1 250000 >"$H_TMP/data.txt"
prog=("$H_PROGRAMS/it_sparse_pages" file 40 100 "$H_TMP/data.txt")
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator --keep 4
H_OUT=$H_TMP/actual.out
h_launch "$H_OUT" "$@" -- "${prog[@]}"
for g in 1 2 3; do
  h_wait_step "$H_OUT" $((g * 4))
  h_checkpoint
done
image=$(ls "$H_CKPTDIR"/ckpt_it_sparse_pages_*_g3.ckpt)
"$CKPT_BIN/ckpt_info" --json "$image" >"$H_TMP/info.json" || h_fail "ckpt_info cannot read $image"
python3 - "$H_TMP/info.json" <<'PY' || h_fail "the third image does not inherit the file mapping's copied pages (see above)"
import json, sys
i = json.load(open(sys.argv[1]))
i = i[0] if isinstance(i, list) else i
assert i["mode"] == "incremental", i["mode"]
data = [r for r in i["regions"] if r["path"].endswith("/data.txt") and "file_backed" in r["flags"]]
assert data, "no file-backed region of data.txt"
assert sum(r["inherited_pages"] for r in data) >= 4, [(r["stored_pages"], r["inherited_pages"]) for r in data]
assert sum(r["stored_pages"] for r in data) <= 12, [(r["stored_pages"], r["inherited_pages"]) for r in data]
PY
h_kill_app
h_restart "$H_OUT"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
echo PASS
