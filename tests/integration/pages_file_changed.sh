#!/bin/bash
# pages_file_changed.sh: a program maps a data file privately and writes a
# few pages; the image stores only those, the rest comes from the file at
# restart. A file changed between checkpoint and restart is refused, with
# one line naming it: rewritten in place with the same size, then grown.
# Put back as it was (same bytes and time), the restart runs to the end.
. "$(dirname "$0")/harness.sh"
h_init
mkdir -p "$H_TMP/data"
data=$H_TMP/data/data.txt
seq 1 250000 >"$data"
cp -p "$data" "$H_TMP/data.orig"
h_first_checkpoint 4 "$H_PROGRAMS/it_sparse_pages" file 30 100 "$data"
h_kill_app

# refused REGEX: ckpt_restart --verify and the restart itself fail with one
# line matching REGEX.
refused() {
  local status=0 regex="file $data \(mapped at 0x[0-9a-f]+-0x[0-9a-f]+\) $1 since the checkpoint: restart refused"
  "$CKPT_BIN/ckpt_restart" --verify "$H_CKPTDIR"/*_g1.ckpt >/dev/null 2>"$H_TMP/verify.err" </dev/null || status=$?
  [ "$status" -ne 0 ] && [ "$(grep -c . "$H_TMP/verify.err")" -eq 1 ] && grep -qE "$regex" "$H_TMP/verify.err" ||
    h_fail "ckpt_restart --verify exited with $status: $(cat "$H_TMP/verify.err")"
  status=0
  timeout 60 "$H_CKPTDIR/ckpt_restart_script.sh" >"$H_TMP/refused.out" 2>"$H_TMP/refused.err" </dev/null || status=$?
  [ "$status" -ne 0 ] && grep -qE "$regex" "$H_TMP/refused.err" ||
    h_fail "the restart with a changed file exited with $status: $(cat "$H_TMP/refused.err")"
  [ -s "$H_TMP/refused.out" ] && h_fail "the refused restart ran the program: $(cat "$H_TMP/refused.out")"
  h_log "refused: $(cat "$H_TMP/verify.err")"
}

printf 'X' | dd of="$data" bs=1 seek=5000 conv=notrunc status=none
refused "was modified"
echo 1 >>"$data"
refused "changed size \([0-9]+ -> [0-9]+ bytes\)"

cp -p "$H_TMP/data.orig" "$H_TMP/data.new" && mv "$H_TMP/data.new" "$data"
refused "was replaced by another file"
# The same bytes and time under another name: accepted where a relocation
# says it is a copy.
mkdir -p "$H_TMP/moved" && cp -p "$H_TMP/data.orig" "$H_TMP/moved/data.txt"
h_restart "$H_OUT" --relocate "$H_TMP/data=$H_TMP/moved"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
echo "PASS"
