#!/bin/bash
# restart_relocate.sh: files the computation needs at restart have moved: its
# working directory, a file it maps MAP_SHARED (whose bytes only the file
# holds) and a file it has open for writing. Without help, the restart stops before the program runs, with one
# line that names the file and the process, and runs --run-on-fail's command.
# With --relocate OLD=NEW it reopens both from the new place, and the run
# finishes exactly as an uninterrupted one (the file included).
. "$(dirname "$0")/harness.sh"
h_init
prog=$H_PROGRAMS/it_restart_files
mkdir "$H_TMP/ref" "$H_TMP/data"
cd "$H_TMP/ref" || h_fail "cannot enter $H_TMP/ref"
h_reference "$H_TMP/expected.out" "$prog" "$H_TMP/ref/slots.bin" 40 80
h_start_coordinator
out=$H_TMP/actual.out
cd "$H_TMP/data" || h_fail "cannot enter $H_TMP/data"
h_launch "$out" -- "$prog" "$H_TMP/data/slots.bin" 40 80
cd "$H_TMP" || h_fail "cannot enter $H_TMP"
h_wait_step "$out" 5
h_checkpoint
h_kill_app
mv "$H_TMP/data" "$H_TMP/moved"
script=$H_CKPTDIR/ckpt_restart_script.sh

# 1. Not found: refused before the program runs; the hook runs and learns why.
status=0
timeout -k 5 60 "$script" --run-on-fail "echo \"\$CKPT_RESTART_ERROR\" >'$H_TMP/hook.out'" \
  >"$H_TMP/missing.out" 2>"$H_TMP/missing.err" </dev/null || status=$?
err=$(cat "$H_TMP/missing.err")
[ "$status" -ne 0 ] && [ "$status" -lt 124 ] || h_fail "restart with moved files exited with $status: $err"
[ "$(grep -c . "$H_TMP/missing.err")" -eq 1 ] || h_fail "expected one line on stderr, got: $err"
grep -qE "cannot reopen (working directory )?$H_TMP/data" "$H_TMP/missing.err" || h_fail "message does not name the missing file: $err"
grep -qE "for process [0-9]+ \(it_restart_files" "$H_TMP/missing.err" || h_fail "message does not name the process: $err"
[ -s "$H_TMP/missing.out" ] && h_fail "the program ran although a file was missing: $(head -3 "$H_TMP/missing.out")"
[ -f "$H_TMP/hook.out" ] || h_fail "the --run-on-fail command did not run"
grep -qF "${err#ckpt_restart: }" "$H_TMP/hook.out" || h_fail "CKPT_RESTART_ERROR was '$(cat "$H_TMP/hook.out")', not the reason"
h_log "refused: $err"

# 2. Relocated: the run goes on from the new place.
stat -c %s "$out" >>"$out.bounds"
"$script" --relocate "$H_TMP/data=$H_TMP/moved" >>"$out" 2>>"$H_TMP/restart.err" </dev/null &
H_APP_PID=$!
before=$(h_max_step "$out")
h_wait_step "$out" $((before + 1))
restored=$(pgrep -P "$H_APP_PID" | head -1)
[ -n "$restored" ] || h_fail "ckpt_restart ($H_APP_PID) has no restored child"
cwd=$(readlink "/proc/$restored/cwd")
[ "$cwd" = "$H_TMP/moved" ] || h_fail "restored process works in '$cwd', not the relocated $H_TMP/moved"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
for f in slots.bin steps.log; do
  cmp -s "$H_TMP/ref/$f" "$H_TMP/moved/$f" || h_fail "the relocated $f differs from the uninterrupted run's"
done
echo "PASS"
