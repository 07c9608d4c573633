#!/bin/bash
# tree_terminal.sh [--job-control] [--restart-opt OPT]... PROG: a computation on a terminal
# (programs/tree_terminal.c: a parent and a child reading lines) is
# checkpointed while the child waits for input, killed, and restarted on a
# different terminal: the lines typed there must reach the child, its answers
# must appear there, and all three streams must be that one terminal, with
# the child in the foreground group. Without --job-control the program stays
# in the terminal session leader's process group (outside the computation);
# with it, it gets a group of its own as from a job-control shell, which the
# restart must make the terminal's foreground group again.
. "$(dirname "$0")/harness.sh"
job_control=() restart_opts=()
while [ $# -gt 1 ]; do
  case $1 in
    --job-control) job_control=(--job-control) ;;
    --restart-opt) restart_opts+=("$2") && shift ;;
    *) break ;;
  esac
  shift
done
prog=$1
pty_run() { python3 "$H_SELF_DIR/pty_run.py" "${job_control[@]}" "$@"; }
h_init

printf 'a\nb\nc\nquit\n' >"$H_TMP/reference.in"
pty_run "$H_TMP/reference.in" "$H_TMP/expected.out" -- "$prog" ||
  h_fail "uninterrupted run exited with $?: $(cat "$H_TMP/expected.out")"
h_log "reference run: $(wc -l <"$H_TMP/expected.out") lines"

h_start_coordinator
out=$H_TMP/actual.out
: >"$out"
: >"$out.bounds"
: >"$H_TMP/first.in"
pty_run "$H_TMP/first.in" "$out" -- "$CKPT_BIN/ckpt_launch" --join --ckptdir "$H_CKPTDIR" "$prog" \
  2>"$H_TMP/app.err" </dev/null &
H_APP_PID=$!
echo a >>"$H_TMP/first.in"
h_wait_step "$out" 1
echo b >>"$H_TMP/first.in"
h_wait_step "$out" 2
h_wait_procs 2
h_checkpoint
h_kill_app

# The restart runs on a new terminal (and the old one is gone).
stat -c %s "$out" >>"$out.bounds"
: >"$H_TMP/second.in"
pty_run "$H_TMP/second.in" "$out" -- "$H_CKPTDIR/ckpt_restart_script.sh" "${restart_opts[@]}" \
  2>"$H_TMP/restart.err" </dev/null &
H_APP_PID=$!
echo c >>"$H_TMP/second.in"
h_wait_step "$out" 3
echo quit >>"$H_TMP/second.in"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
