#!/bin/bash
# keep_generations.sh: --keep N keeps the newest N committed generations.
# For N = 1, 2 and 3: four checkpoints, each leaving exactly the newest N
# generations (scripts and images) in the directory; then a restart from the
# newest, whose generation stays until N newer ones are committed, and a run
# to the end that matches the uninterrupted one. Then, with N = 3, a restart
# from an older generation abandons the newer ones at its first commit; and a
# coordinator started anew on the same directory with a fresh run numbers
# past everything there and leaves the old run's generations alone.
. "$(dirname "$0")/harness.sh"
h_init
prog=("$H_PROGRAMS/it_heap_churn" 16 80 100)
h_reference "$H_TMP/expected.out" "${prog[@]}"

# newest N G...: the last N of the generations G.
newest() {
  local n=$1
  shift
  echo "${@:$(($# > n ? $# - n + 1 : 1))}"
}

stop_coordinator() {
  kill -TERM "$H_COORD_PID"
  h_wait_exit "$H_COORD_PID" 10 || h_fail "the coordinator did not stop"
}

for keep in 1 2 3; do
  H_CKPTDIR=$H_TMP/ckpt-keep$keep
  mkdir -p "$H_CKPTDIR"
  [ -n "$H_COORD_PID" ] && stop_coordinator
  h_start_coordinator --keep "$keep"
  H_OUT=$H_TMP/keep$keep.out
  h_launch "$H_OUT" -- "${prog[@]}"
  committed=()
  for g in 1 2 3 4; do
    h_wait_step "$H_OUT" $((g * 4))
    h_checkpoint
    committed+=("$g")
    h_expect_generations "$(newest "$keep" "${committed[@]}")"
  done
  h_kill_app
  h_restart "$H_OUT"
  h_wait_procs 1
  h_expect_generations "$(newest "$keep" "${committed[@]}")"
  h_wait_step "$H_OUT" $(($(h_max_step "$H_OUT") + 2))
  h_checkpoint
  committed+=(5)
  h_expect_generations "$(newest "$keep" "${committed[@]}")"
  h_wait_app_exit
  h_compare "$H_TMP/expected.out" "$H_OUT"
done

# keep 3 left generations 3 4 5: restart from 3. Its first commit (6) keeps
# 3 (the generation in use) and removes 4 and 5, which the restarted run
# abandoned.
H_RESTART_SCRIPT=$H_CKPTDIR/ckpt_restart_g3.sh h_restart "$H_OUT"
h_wait_procs 1
h_checkpoint
grep -q "^checkpoint 6 written" "$H_TMP/command.log" || h_fail "not generation 6: $(cat "$H_TMP/command.log")"
h_expect_generations "3 6"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"

# A new coordinator, a fresh run, the same directory: generation 7, and the
# old run's generations stay (they are not this run's to remove).
stop_coordinator
h_start_coordinator --keep 1
H_OUT=$H_TMP/fresh.out
h_launch "$H_OUT" -- "${prog[@]}"
h_wait_step "$H_OUT" 3
h_checkpoint
grep -q "^checkpoint 7 written" "$H_TMP/command.log" ||
  h_fail "a fresh run in the same directory reused a generation: $(cat "$H_TMP/command.log")"
h_expect_generations "3 6 7"
h_kill_app
h_restart_to_end
echo PASS
