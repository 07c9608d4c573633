#!/bin/bash
# incremental_keep.sh: --keep with incremental images never removes an image
# that a kept one needs, and removes the rest. With --keep 2 and --full-every 3
# the chains are g1 <- g2 <- g3, g4 <- g5 <- g6, g7: after each commit the
# directory holds the scripts of the two newest generations and the images of
# every generation their chains go through, no more (ckpt_info says each
# image's mode). A restart from generation 6 (chain 4 <- 5 <- 6) runs, and
# its first checkpoint is full (nothing is tracked in a restored process)
# and keeps 6 with its chain; the run ends as the uninterrupted one.
. "$(dirname "$0")/harness.sh"
h_init
prog=("$H_PROGRAMS/it_incr_pages" 8 60 150 10)
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator --keep 2
H_OUT=$H_TMP/actual.out
h_launch "$H_OUT" --full-every 3 -- "${prog[@]}"

# expect SCRIPTS IMAGES: the generations of the scripts and the images.
expect() {
  local deadline=$((SECONDS + 10))
  until [ "$(h_generations scripts)" = "$1" ] && [ "$(h_generations images)" = "$2" ]; do
    [ "$SECONDS" -lt "$deadline" ] ||
      h_fail "expected scripts '$1' and images '$2', found scripts '$(h_generations scripts)' and images '$(h_generations images)'"
    sleep 0.1
  done
  h_log "scripts $1, images $2"
}
mode_of() {
  "$CKPT_BIN/ckpt_info" --json "$(ls "$H_CKPTDIR"/ckpt_it_incr_pages_*_g$1.ckpt)" |
    python3 -c 'import json, sys; i = json.load(sys.stdin); i = i[0] if isinstance(i, list) else i; print(i["mode"])'
}
scripts=("1" "1 2" "2 3" "3 4" "4 5" "5 6" "6 7")
images=("1" "1 2" "1 2 3" "1 2 3 4" "4 5" "4 5 6" "4 5 6 7")
modes=(full incremental incremental full incremental incremental full)
for g in 1 2 3 4 5 6 7; do
  h_wait_step "$H_OUT" $((g * 2))
  h_checkpoint
  expect "${scripts[g - 1]}" "${images[g - 1]}"
  mode=$(mode_of "$g")
  [[ "$mode" == "${modes[g - 1]}"* ]] || h_fail "generation $g is '$mode', expected ${modes[g - 1]}"
done
h_expect_generations "6 7"
h_kill_app
H_RESTART_SCRIPT=$H_CKPTDIR/ckpt_restart_g6.sh h_restart "$H_OUT"
h_wait_procs 1
h_wait_step "$H_OUT" $(($(h_max_step "$H_OUT") + 1))
h_checkpoint
grep -q "^checkpoint 8 written" "$H_TMP/command.log" || h_fail "not generation 8: $(cat "$H_TMP/command.log")"
# 7 was abandoned by the restart from 6.
expect "6 8" "4 5 6 8"
[ "$(mode_of 8)" = "full (first tracked checkpoint)" ] || h_fail "the first image after a restart is '$(mode_of 8)'"
h_wait_step "$H_OUT" $(($(h_max_step "$H_OUT") + 1))
h_checkpoint
expect "8 9" "8 9"
[ "$(mode_of 9)" = incremental ] || h_fail "the second image after a restart is '$(mode_of 9)'"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
echo PASS
