#!/bin/bash
# ckptdir_failure.sh [fsize]: a checkpoint that cannot be written fails
# cleanly. After a good checkpoint, the checkpoint dir becomes unwritable (as
# a normal user: chmod 555) or full (as root, who ignores permissions: a small
# tmpfs filled up); with "fsize", the program's RLIMIT_FSIZE drops below an
# image's size instead (as anyone). Then ckpt_command --checkpoint must fail
# with a clear message, the program must keep running, the previous images
# and restart script must be untouched and nothing of the failed generation
# left; once the dir is usable again a checkpoint succeeds, and the program
# restarts from it with the right output.
. "$(dirname "$0")/harness.sh"
h_init
prog=("$H_PROGRAMS/it_heap_churn" 16 60 100)
h_reference "$H_TMP/expected.out" "${prog[@]}"

if [ "${1:-}" = fsize ]; then
  mode=fsize
  command -v prlimit >/dev/null || { echo "SKIP: no prlimit to lower the program's RLIMIT_FSIZE"; exit 77; }
elif [ "$(id -u)" -eq 0 ]; then
  mode=full
  mount -t tmpfs -o size=96m,mode=0755 ckpt-test "$H_CKPTDIR" 2>"$H_TMP/mount.err" || {
    echo "SKIP: as root only a full disk makes the checkpoint dir fail, and mounting a tmpfs failed: $(cat "$H_TMP/mount.err")"
    exit 77
  }
  H_MOUNTED=$H_CKPTDIR
else
  mode=unwritable
fi
h_log "mode: checkpoint dir $mode"

h_start_coordinator
out=$H_TMP/actual.out
# In fsize mode the next image must outgrow the 4 MiB limit: a full one (an
# incremental image of this program is some 2.5 MiB).
launch_opts=()
[ "$mode" = fsize ] && launch_opts=(--no-incremental)
h_launch "$out" "${launch_opts[@]}" -- "${prog[@]}"
h_wait_step "$out" 3
h_checkpoint
snapshot() { (cd "$H_CKPTDIR" && find . -type f ! -name filler -print0 | sort -z | xargs -0 cksum); }
snapshot >"$H_TMP/before.sums"

if [ "$mode" = fsize ]; then
  prlimit --pid "$H_APP_PID" --fsize=4194304: || h_fail "cannot lower the program's RLIMIT_FSIZE"
elif [ "$mode" = full ]; then
  dd if=/dev/zero of="$H_CKPTDIR/filler" bs=1M 2>/dev/null
  [ "$(df --output=avail -k "$H_CKPTDIR" | tail -1)" -lt 1024 ] || h_fail "could not fill $H_CKPTDIR"
else
  chmod 555 "$H_CKPTDIR"
fi

status=0
h_command --checkpoint >"$H_TMP/failed-checkpoint.log" 2>&1 || status=$?
msg=$(cat "$H_TMP/failed-checkpoint.log")
h_log "checkpoint into the $mode dir: exit $status: $msg"
[ "$status" -ne 0 ] || h_fail "ckpt_command --checkpoint succeeded with an $mode checkpoint dir"
[ "$status" -lt 124 ] || h_fail "ckpt_command --checkpoint hung or crashed (exit $status)"
grep -qiE 'space|permission|denied|read-only|too large|cannot (create|write|open)' "$H_TMP/failed-checkpoint.log" ||
  h_fail "the failure message does not say what went wrong: $msg"

h_gone "$H_APP_PID" && h_fail "the program died with the failed checkpoint"
h_wait_step "$out" $(($(h_max_step "$out") + 2))
snapshot >"$H_TMP/after.sums"
diff -u "$H_TMP/before.sums" "$H_TMP/after.sums" >&2 || h_fail "the failed checkpoint changed the previous images"
h_expect_generations 1

if [ "$mode" = fsize ]; then
  prlimit --pid "$H_APP_PID" --fsize=unlimited: || h_fail "cannot raise the program's RLIMIT_FSIZE again"
elif [ "$mode" = full ]; then
  rm -f "$H_CKPTDIR/filler"
else
  chmod 755 "$H_CKPTDIR"
fi
h_checkpoint
h_expect_generations "1 3"
h_kill_app
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
