#!/bin/bash
# fd_stdio.sh: the computation's standard streams (programs/fd_stdio.c).
# A launch with --new-coordinator records its own streams in CKPT_STDIO even
# if it inherited the variable.
# Checkpoint 1: the root's stdout (the file the launch redirected to) is
# Stdio 1 in the root and in its exec'd child, with one desc_id; a pipe whose
# writer is outside the computation is Stdio 0 where the root moved it to
# fd 0, in the root and in the child that inherited it. After a restart with stdout going to another file, the
# streams are ckpt_restart's: checkpoint 2 finds the restarted root's and a
# child forked and exec'd after the restart with stdout = that new file
# recorded as Stdio 1, not as a plain file.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/fd_lib.sh"
prog=$H_PROGRAMS/it_fd_stdio
h_init
mkdir "$H_TMP/run"

# The first process of a computation records its streams in CKPT_STDIO; a
# launch with a fresh coordinator starts a new computation even if it
# inherits the variable from another one.
stale=0000000000000001:0000000000000002,0000000000000001:0000000000000003,0000000000000001:0000000000000004
CKPT_STDIO=$stale "$CKPT_BIN/ckpt_launch" --new-coordinator --coord-port 0 --ckptdir "$H_CKPTDIR" env \
  >"$H_TMP/env.out" 2>"$H_TMP/env.err" </dev/null || h_fail "ckpt_launch env failed: $(cat "$H_TMP/env.err")"
recorded=$(sed -n 's/^CKPT_STDIO=//p' "$H_TMP/env.out")
[[ "$recorded" =~ ^([0-9a-f]{16}:[0-9a-f]{16},){2}[0-9a-f]{16}:[0-9a-f]{16}$ ]] && [ "$recorded" != "$stale" ] ||
  h_fail "a new computation kept CKPT_STDIO '$recorded' instead of recording its own streams"
h_start_coordinator
out=$H_TMP/actual.out
# A writer outside the computation, at fd 5 of everything started from here.
exec 5< <(exec sleep 600 2>/dev/null)
h_on_exit "kill $!"
h_launch "$out" -- "$prog" "$H_TMP/run"
exec 5<&-
h_wait_step "$out" 3
h_checkpoint

# images GENERATION: each image of that checkpoint decoded (ckpt_info --json)
# into $H_TMP/g<gen>.<n>.json; prints the file names, the root's (whose
# parent is not in the computation) first.
images() {
  local n=0 image
  for image in "$H_CKPTDIR"/*_g"$1".ckpt; do
    [ -f "$image" ] || h_fail "no images of checkpoint $1"
    fd_records "$image" "$H_TMP/g$1.$n.json"
    n=$((n + 1))
  done
  python3 - "$H_TMP"/g"$1".*.json <<'PY'
import json, sys
procs = {f: json.load(open(f))[0]["process"] for f in sys.argv[1:]}
pids = {p["virt_pid"] for p in procs.values()}
for f in sorted(procs, key=lambda f: procs[f]["virt_ppid"] in pids):
    print(f)
PY
}
mapfile -t g1 < <(images 1)
[ "${#g1[@]}" -eq 2 ] || h_fail "checkpoint 1 has ${#g1[@]} images, expected the root and its child"
root=${g1[0]} child=${g1[1]}
"$CKPT_BIN/ckpt_info" "$H_CKPTDIR"/*_g1.ckpt >&2
fd_expect "$root" 0 kind stdio
fd_expect "$root" 0 stdio_index 0
fd_expect "$root" 1 kind stdio
fd_expect "$root" 1 stdio_index 1
fd_expect "$child" 1 kind stdio
fd_expect "$child" 1 stdio_index 1
fd_expect "$child" 1 desc_id "$(fd_field "$root" 1 desc_id)"
fd_expect "$child" 0 kind stdio
fd_expect "$child" 0 desc_id "$(fd_field "$root" 0 desc_id)"
h_log "checkpoint 1: standard streams recognised in root and child"

h_kill_app
: >"$H_TMP/restarted.out"
"$H_CKPTDIR/ckpt_restart_script.sh" >"$H_TMP/restarted.out" 2>>"$H_TMP/restart.err" </dev/null &
H_APP_PID=$!
h_wait_step "$H_TMP/restarted.out" 1
touch "$H_TMP/run/fork2"
deadline=$((SECONDS + H_WAIT))
until grep -q '^forked 2$' "$H_TMP/restarted.out"; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "the restarted root did not start its second child"
  sleep 0.05
done
sleep 0.3  # the second child's exec
h_checkpoint
mapfile -t g2 < <(images 2)
[ "${#g2[@]}" -eq 3 ] || h_fail "checkpoint 2 has ${#g2[@]} images, expected the root and two children"
"$CKPT_BIN/ckpt_info" "$H_CKPTDIR"/*_g2.ckpt >&2
for records in "${g2[@]}"; do
  fd_expect "$records" 1 kind stdio
  fd_expect "$records" 1 stdio_index 1
done
h_log "checkpoint 2: ckpt_restart's stdout is the standard stream, also for a child started after the restart"
touch "$H_TMP/run/stop"
h_wait_app_exit
tail -n 1 "$H_TMP/restarted.out" | grep -qx done || h_fail "the restarted tree did not finish cleanly"
echo PASS
