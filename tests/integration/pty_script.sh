#!/bin/bash
# pty_script.sh: util-linux script(1) itself, running an interactive bash
# (script -qfec 'bash -i' /dev/null), with commands fed to script's stdin
# through a FIFO. Checkpointed while a command sleeps in the foreground with
# the next command typed ahead (queued in the inner pty), killed, restarted:
# the sleeping command finishes, the typed-ahead one runs, a command that
# needs the controlling terminal (/dev/tty) works, and the output is an
# uninterrupted run's.
. "$(dirname "$0")/harness.sh"
command -v script >/dev/null || { echo "SKIP: no script(1)"; exit 77; }
h_init

# wait_for FILE TEXT: until FILE holds TEXT.
wait_for() {
  local deadline=$((SECONDS + H_WAIT))
  until grep -qF -- "$2" "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "no '$2' in $1 within ${H_WAIT} s: $(cat -A "$1")"
    sleep 0.05
  done
}

# wait_prompt FILE: until FILE ends with the shell's prompt. A command typed
# before the prompt is printed is echoed by the terminal ahead of it, so
# each one waits for the prompt, in both runs alike.
wait_prompt() {
  local deadline=$((SECONDS + H_WAIT))
  until [ "$(tail -c 2 "$1")" = '$ ' ]; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "no prompt at the end of $1 within ${H_WAIT} s: $(tail -c 200 "$1" | cat -A)"
    sleep 0.05
  done
}

# session OUT CHECKPOINT CMD...: runs CMD (script under ckpt_launch, or
# not) on the FIFO $H_TMP/in, typing the commands; with CHECKPOINT=yes,
# checkpoints, kills and restarts it while the first command sleeps.
session() {
  local out=$1 checkpoint=$2
  shift 2
  rm -f "$H_TMP/in" && mkfifo "$H_TMP/in"
  "$@" <"$H_TMP/in" >"$out" 2>>"$H_TMP/app.err" &
  H_APP_PID=$!
  exec 4>"$H_TMP/in"
  wait_prompt "$out"
  echo 'echo S$((1+1))' >&4
  wait_for "$out" S2
  wait_prompt "$out"
  echo 'echo B$((2+2)); sleep 4; echo E$((3+3))' >&4
  wait_for "$out" B4
  echo 'echo T$((4+4))' >&4
  wait_for "$out" 'echo T$((4+4))'  # echoed by the inner terminal: queued there
  if [ "$checkpoint" = yes ]; then
    h_checkpoint
    h_kill_app
    exec 4>&-
    stat -c %s "$out" >>"$out.bounds"
    "$H_CKPTDIR/ckpt_restart_script.sh" <"$H_TMP/in" >>"$out" 2>>"$H_TMP/restart.err" &
    H_APP_PID=$!
    exec 4>"$H_TMP/in"
  fi
  wait_for "$out" E6
  wait_for "$out" T8
  wait_prompt "$out"
  echo 'sh -c "exec </dev/tty && echo C\$((5+5))"' >&4
  wait_for "$out" C10
  wait_prompt "$out"
  echo 'exit' >&4
  exec 4>&-
  h_wait_exit "$H_APP_PID" || h_fail "script did not exit"
  [ "$H_STATUS" -eq 0 ] || h_fail "script exited with $H_STATUS: $(cat "$H_TMP/app.err" "$H_TMP/restart.err" 2>/dev/null)"
}

shell="env PS1='$ ' HISTFILE=/dev/null bash --norc --noprofile --noediting -i"
session "$H_TMP/expected.out" no script -qfec "$shell" /dev/null
h_log "reference run: $(wc -l <"$H_TMP/expected.out") lines"
h_start_coordinator
: >"$H_TMP/actual.out.bounds"
session "$H_TMP/actual.out" yes "$CKPT_BIN/ckpt_launch" --join --ckptdir "$H_CKPTDIR" script -qfec "$shell" /dev/null
h_compare "$H_TMP/expected.out" "$H_TMP/actual.out"
echo PASS
