#!/bin/bash
# incremental_modes.sh: when checkpoints are not incremental, and that they
# say why. Each case checkpoints it_incr_pages twice, kills and restarts it,
# and its run must end as the uninterrupted one:
#   - where userfaultfd is refused (a seccomp filter, it_no_userfaultfd): both
#     images full, "write tracking unavailable", and the process's log says so;
#   - --no-incremental: both full, "incremental disabled";
#   - --full-every 1: both full, "periodic";
#   - by default: the second incremental, and the log line of its checkpoint
#     counts the pages written and inherited.
# The program registers its memory with a userfaultfd of its own every third
# step (own-uffd): memory ckpt tracks must stay the application's to register.
. "$(dirname "$0")/harness.sh"
h_init
# The mode of each checkpoint is an Info line of the process's log.
export CKPT_LOG=info
prog=("$H_PROGRAMS/it_incr_pages" 8 24 150 10 own-uffd)
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator --keep 2

mode_of() {
  "$CKPT_BIN/ckpt_info" --json "$(ls "$H_CKPTDIR"/ckpt_it_incr_pages_*_g$1.ckpt)" |
    python3 -c 'import json, sys; i = json.load(sys.stdin); i = i[0] if isinstance(i, list) else i; print(i["mode"])'
}

# case NAME FIRST_MODE SECOND_MODE LOG_REGEX [LAUNCH_OPTION...] -- [WRAPPER...]
case_() {
  local name=$1 first=$2 second=$3 log=$4 opts=() wrapper=()
  shift 4
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  wrapper=("$@")
  H_CKPTDIR=$H_TMP/ckpt-$name
  mkdir -p "$H_CKPTDIR"
  export CKPT_LOG_DIR=$H_TMP/logs-$name
  mkdir -p "$CKPT_LOG_DIR"
  H_OUT=$H_TMP/$name.out
  h_launch "$H_OUT" "${opts[@]}" -- "${wrapper[@]}" "${prog[@]}"
  local g base
  base=$(h_generations scripts | awk '{print $NF}')
  for g in 1 2; do
    h_wait_step "$H_OUT" $((g * 3))
    h_checkpoint
  done
  local g2 g1
  g2=$(h_generations scripts | awk '{print $NF}')
  g1=$((g2 - 1))
  [ "$(mode_of "$g1")" = "$first" ] || h_fail "$name: the first image is '$(mode_of "$g1")', expected '$first'"
  [ "$(mode_of "$g2")" = "$second" ] || h_fail "$name: the second image is '$(mode_of "$g2")', expected '$second'"
  grep -qE "$log" "$CKPT_LOG_DIR"/* || h_fail "$name: no log line matching '$log' in $(cat "$CKPT_LOG_DIR"/*)"
  h_kill_app
  h_restart "$H_OUT"
  h_wait_app_exit
  h_compare "$H_TMP/expected.out" "$H_OUT"
  h_log "$name: $(mode_of "$g1"), then $(mode_of "$g2")"
}

unavailable="full (write tracking unavailable)"
case_ no_uffd "$unavailable" "$unavailable" "no write tracking \(userfaultfd: error 1\)" -- "$H_PROGRAMS/it_no_userfaultfd"
case_ disabled "full (incremental disabled)" "full (incremental disabled)" \
  "checkpoint [0-9]+: full \(incremental disabled\) image \(tracking [0-9]+ us while frozen\)" --no-incremental --
case_ every1 "full (first tracked checkpoint)" "full (periodic, --full-every)" \
  "checkpoint [0-9]+: full \(periodic, --full-every\) image" --full-every 1 --
case_ default "full (first tracked checkpoint)" incremental \
  "checkpoint [0-9]+: incremental over generation [0-9]+: [0-9]+ pages written since, [0-9]+ inherited" --
echo PASS
