#!/bin/bash
# vim_edit.sh: vim edits a file on a terminal of its own (pty_run.py),
# is checkpointed between two edits, killed, and restarted on a new
# terminal, where the second edit is typed and the file written: the file
# must equal an uninterrupted session's (issue 12: vim's SIGEV_THREAD timer
# thread blocked every signal, so vim could not be checkpointed at all).
. "$(dirname "$0")/harness.sh"
vim=$(command -v vim.tiny || command -v vim.basic || command -v vim) || {
  echo "skipped: no vim here"
  exit 77
}
h_init
pty_run() { TERM=xterm python3 "$H_SELF_DIR/pty_run.py" "$@"; }
vim_args=(-u NONE -i NONE -n -N)
first=$'ifirst line\e'
second=$'osecond line\e:wq\r'

printf '%s%s' "$first" "$second" >"$H_TMP/reference.in"
pty_run "$H_TMP/reference.in" "$H_TMP/reference.screen" -- "$vim" "${vim_args[@]}" "$H_TMP/expected.txt" ||
  h_fail "uninterrupted vim exited with $?"
[ "$(cat "$H_TMP/expected.txt")" = $'first line\nsecond line' ] || h_fail "uninterrupted vim wrote: $(cat "$H_TMP/expected.txt")"

h_start_coordinator
: >"$H_TMP/first.in"
pty_run "$H_TMP/first.in" "$H_TMP/first.screen" -- "$CKPT_BIN/ckpt_launch" --join --ckptdir "$H_CKPTDIR" \
  "$vim" "${vim_args[@]}" "$H_TMP/actual.txt" 2>"$H_TMP/app.err" </dev/null &
H_APP_PID=$!
h_wait_procs 1
printf '%s' "$first" >>"$H_TMP/first.in"
deadline=$((SECONDS + H_WAIT))
until grep -q "first line" "$H_TMP/first.screen"; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "vim did not show the first edit: $(cat -v "$H_TMP/first.screen" | tail -c 400)"
  sleep 0.05
done
sleep 0.3
h_checkpoint
h_kill_app
[ ! -e "$H_TMP/actual.txt" ] || h_fail "vim wrote the file before it was told to"

: >"$H_TMP/second.in"
pty_run "$H_TMP/second.in" "$H_TMP/second.screen" -- "$H_CKPTDIR/ckpt_restart_script.sh" \
  2>"$H_TMP/restart.err" </dev/null &
H_APP_PID=$!
h_wait_procs 1
sleep 0.3
printf '%s' "$second" >>"$H_TMP/second.in"
h_wait_app_exit
diff -u "$H_TMP/expected.txt" "$H_TMP/actual.txt" || h_fail "the file vim wrote after the restart differs"
echo PASS
