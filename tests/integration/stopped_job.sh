#!/bin/bash
# stopped_job.sh PROG [STEPS]
# PROG (programs/stopped_job.c): a shell-like parent whose job stops itself
# with SIGTSTP at step 5 and waits for `fg` (a file). Under ckpt_launch, with
# the job stopped: two checkpoints without a kill, then checkpoint, kill and
# restart twice. After each, the job must be stopped again (/proc state T)
# and print nothing; then `fg`: the parent must find it stopped in its own
# waitpid(WUNTRACED) view and in /proc, continue it, and the output must be
# the uninterrupted run's (where `fg` comes at once).
. "$(dirname "$0")/harness.sh"
[ $# -ge 1 ] || { echo "usage: $0 PROG [STEPS]" >&2; exit 2; }
prog=$1
steps=${2:-30}
h_init
ref=$(h_workdir reference)
touch "$ref/fg"
h_reference "$H_TMP/expected.out" "$prog" "$ref" "$steps"
h_start_coordinator --timeout 20
run=$(h_workdir run)
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" "$run" "$steps"

# The job's kernel pid, from the coordinator (restarted processes are not
# our descendants): the process of the computation that is not the root.
job_pid() {
  h_list_json | python3 -c '
import json, sys
procs = json.load(sys.stdin)["processes"]
print(min(procs, key=lambda p: -p["pid"])["real_pid"] if len(procs) == 2 else "")'
}

# The job is stopped (waits up to 10 s for it to stop itself), and stays so
# with step 5 as its last, for a second.
expect_stopped() {
  local when=$1 pid deadline=$((SECONDS + 10))
  while :; do
    pid=$(job_pid)
    [ -n "$pid" ] && [ "$(h_proc_state "$pid")" = T ] && break
    [ "$SECONDS" -lt "$deadline" ] || h_fail "$when: the job is not stopped (pid '${pid}', state $(h_proc_state "${pid:-0}"))"
    sleep 0.05
  done
  sleep 1
  [ "$(h_proc_state "$pid")" = T ] || h_fail "$when: the job ran again (state $(h_proc_state "$pid"))"
  [ "$(h_max_step "$out")" -eq 5 ] || h_fail "$when: the stopped job printed step $(h_max_step "$out")"
  h_log "$when: job $pid stopped"
}

h_wait_step "$out" 5
h_wait_procs 2
expect_stopped "before any checkpoint"
for i in 1 2; do
  h_checkpoint
  expect_stopped "after checkpoint $i (no restart)"
done
for i in 1 2; do
  old=$(job_pid)
  h_checkpoint
  h_kill_app
  deadline=$((SECONDS + 10))
  until [ "$(h_proc_state "$old")" = gone ] || [ "$(h_proc_state "$old")" = Z ]; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "ckpt_command --kill left the stopped job $old alive (state $(h_proc_state "$old"))"
    sleep 0.05
  done
  h_restart "$out"
  h_wait_procs 2
  expect_stopped "after restart $i"
done
grep -q "parent: at fg" "$out" && h_fail "the parent saw fg before it was given"
touch "$run/fg"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
grep -q "parent: at fg the job is stopped: waitpid yes, /proc yes" "$out" || h_fail "the parent did not find the job stopped at fg"
echo PASS
