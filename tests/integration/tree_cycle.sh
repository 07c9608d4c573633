#!/bin/bash
# tree_cycle.sh [OPTION...] FIRST_STEP -- CMD...
# The standard checkpoint/kill/restart test for a computation of several
# processes. Runs CMD uninterrupted, then under ckpt_launch; once it printed
# FIRST_STEP, checkpoints, kills and restarts it (CYCLES times; later rounds
# wait for a step the restarted computation printed itself); the restarted
# computation must finish with status 0 and the same output.
#
# An argument @WORK@ in CMD becomes a fresh directory of each run (the
# uninterrupted one and the checkpointed one get different ones).
#
#   --cycles C             checkpoint/kill/restart rounds (default 1)
#   --procs N              before each checkpoint, wait until the coordinator
#                          lists exactly N running processes
#   --min-procs N          before each checkpoint, wait until it lists at
#                          least N processes
#   --restart-opt OPT      pass OPT to ckpt_restart (repeatable)
#   --launch-opt OPT       pass OPT to ckpt_launch (repeatable)
#   --same-file NAME       at the end, @WORK@/NAME must be identical in both
#                          runs (repeatable)
. "$(dirname "$0")/harness.sh"

cycles=1 procs= min_procs=
restart_opts=() launch_opts=() same_files=()
while [ $# -gt 0 ]; do
  case $1 in
    --cycles) cycles=$2; shift 2 ;;
    --procs) procs=$2; shift 2 ;;
    --min-procs) min_procs=$2; shift 2 ;;
    --restart-opt) restart_opts+=("$2"); shift 2 ;;
    --launch-opt) launch_opts+=("$2"); shift 2 ;;
    --same-file) same_files+=("$2"); shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 3 ] && [ "$2" = -- ] || { echo "usage: $0 [OPTION...] FIRST_STEP -- CMD..." >&2; exit 2; }
first=$1
shift 2

# command_in DIR: CMD with @WORK@ replaced by DIR, into the array cmd.
command_in() {
  cmd=()
  local arg
  for arg in "${template[@]}"; do
    [ "$arg" = @WORK@ ] && arg=$1
    cmd+=("$arg")
  done
}
template=("$@")

h_init
command_in "$(h_workdir reference)"
h_reference "$H_TMP/expected.out" "${cmd[@]}"
h_start_coordinator
out=$H_TMP/actual.out
command_in "$(h_workdir run)"
h_launch "$out" "${launch_opts[@]}" -- "${cmd[@]}"
target=$first
for ((cycle = 1; cycle <= cycles; cycle++)); do
  h_wait_step "$out" "$target"
  [ -n "$procs" ] && h_wait_procs "$procs"
  [ -n "$min_procs" ] && h_wait_min_procs "$min_procs"
  h_checkpoint
  h_kill_app
  target=$(($(h_max_step "$out") + 2))
  h_restart "$out" "${restart_opts[@]}"
done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
for name in "${same_files[@]}"; do
  cmp "$H_TMP/reference/$name" "$H_TMP/run/$name" >/dev/null ||
    h_fail "$name differs from the uninterrupted run's: $(diff "$H_TMP/reference/$name" "$H_TMP/run/$name" | head -20)"
  h_log "$name matches the uninterrupted run's"
done
echo PASS
