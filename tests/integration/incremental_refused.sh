#!/bin/bash
# incremental_refused.sh: an incremental image whose chain is broken is
# refused with one line naming the parent and what is wrong with it, before
# anything runs: its parent missing, another image under the parent's name,
# a parent whose header or data is damaged. With the chain whole again the
# restart works and the run ends as the uninterrupted one.
. "$(dirname "$0")/harness.sh"
h_init
prog=("$H_PROGRAMS/it_incr_pages" 16 30 200 10)
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator --keep 4
H_OUT=$H_TMP/actual.out
h_launch "$H_OUT" -- "${prog[@]}"
for g in 1 2 3; do
  h_wait_step "$H_OUT" $((g * 2 + 1))
  h_checkpoint
done
h_kill_app
image_of() { ls "$H_CKPTDIR"/ckpt_it_incr_pages_*_g$1.ckpt; }
g1=$(image_of 1) g2=$(image_of 2) g3=$(image_of 3)
cp -p "$g1" "$H_TMP/g1.orig"
cp -p "$g2" "$H_TMP/g2.orig"

# refused REGEX: both ckpt_restart --verify and the restart script refuse
# with one line matching REGEX, and the program does not run.
refused() {
  local regex=$1 status=0
  "$CKPT_BIN/ckpt_restart" --verify "$g3" >/dev/null 2>"$H_TMP/verify.err" </dev/null || status=$?
  [ "$status" -eq 1 ] && [ "$(grep -c . "$H_TMP/verify.err")" -eq 1 ] && grep -qE "$regex" "$H_TMP/verify.err" ||
    h_fail "ckpt_restart --verify exited with $status, expected 1 and '$regex': $(cat "$H_TMP/verify.err")"
  status=0
  timeout 60 "$H_CKPTDIR/ckpt_restart_script.sh" >"$H_TMP/refused.out" 2>"$H_TMP/refused.err" </dev/null || status=$?
  [ "$status" -ne 0 ] && [ "$(grep -c . "$H_TMP/refused.err")" -eq 1 ] && grep -qE "$regex" "$H_TMP/refused.err" ||
    h_fail "the restart exited with $status, expected a failure and '$regex': $(cat "$H_TMP/refused.err")"
  [ -s "$H_TMP/refused.out" ] && h_fail "the refused restart ran the program: $(cat "$H_TMP/refused.out")"
  h_log "refused: $(cat "$H_TMP/verify.err")"
}

mv "$g1" "$H_TMP/g1.away"
refused "parent image .*_g1\.ckpt \(generation 1\) is unusable: .*cannot open: No such file"
mv "$H_TMP/g1.away" "$g1"

cp "$g1" "$g2"  # another image under the parent's name
refused "parent image .*_g2\.ckpt \(generation 2\) is not the image it was written over"
cp -p "$H_TMP/g2.orig" "$g2"

printf 'X' | dd of="$g1" bs=1 seek=40 conv=notrunc status=none  # the header (its lineage)
refused "parent image .*_g1\.ckpt \(generation 1\) is unusable: .*header checksum mismatch"
cp -p "$H_TMP/g1.orig" "$g1"

# The data: in the middle of the full image's pages, which the
# generations after it inherit.
size=$(stat -c %s "$g1")
printf 'XXXXXXXX' | dd of="$g1" bs=1 seek=$((size / 2)) conv=notrunc status=none
refused "_g1\.ckpt: (checksum mismatch|corrupt compressed data)"
cp -p "$H_TMP/g1.orig" "$g1"

h_restart "$H_OUT"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
echo PASS
