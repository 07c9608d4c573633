#!/bin/bash
# private_dir.sh: logs go to this user's private directory
# ${TMPDIR:-/tmp}/ckpt-UID only while it is safe (issue 8). A directory that
# others can write (as when another user made it first) is refused: the
# coordinator's --daemon says so and exits 1, libckpt logs nothing there. A
# symbolic link planted at the coordinator's log name is not followed.
. "$(dirname "$0")/harness.sh"
h_init
export TMPDIR=$H_TMP/tmp
unset CKPT_LOG_DIR
mkdir "$TMPDIR"
dir=$TMPDIR/ckpt-$(id -u)
mkdir "$dir"
chmod 0777 "$dir"

port=$(h_free_port)
status=0
"$CKPT_BIN/ckpt_coordinator" --daemon --port "$port" --exit-on-last --timeout 5 2>"$H_TMP/daemon.err" || status=$?
[ "$status" -eq 1 ] && grep -q "not a directory of uid $(id -u) that only it can write" "$H_TMP/daemon.err" ||
  h_fail "the coordinator accepted a log directory others can write (status $status): $(cat "$H_TMP/daemon.err")"

h_start_coordinator
CKPT_LOG=info h_launch "$H_TMP/app.out" -- "$H_PROGRAMS/it_heap_churn" 4 10 20
h_wait_app_exit
[ -z "$(ls -A "$dir")" ] || h_fail "libckpt logged into a directory others can write: $(ls -l "$dir")"

chmod 0700 "$dir"
echo "not yours" >"$H_TMP/victim"
ln -s "$H_TMP/victim" "$dir/ckpt_coordinator.$port.log"
status=0
"$CKPT_BIN/ckpt_coordinator" --daemon --port "$port" --exit-on-last --timeout 5 2>"$H_TMP/daemon.err" || status=$?
[ "$status" -eq 1 ] || h_fail "the coordinator followed a symbolic link to its log (status $status)"
[ "$(cat "$H_TMP/victim")" = "not yours" ] || h_fail "the symbolic link's target was written to"

rm "$dir/ckpt_coordinator.$port.log"
CKPT_LOG=info h_launch "$H_TMP/app.out" -- "$H_PROGRAMS/it_heap_churn" 4 10 20
h_wait_app_exit
ls "$dir"/it_heap_churn.*.log >/dev/null 2>&1 || h_fail "libckpt did not log into its private directory: $(ls -l "$dir")"
echo PASS
