#!/bin/bash
# restart_as_image_user.sh: root restarting a user's computation runs it as
# that user (issue 8). The computation (coordinator, program, checkpoint)
# belongs to uid/gid 65534; root runs the restart script. ckpt_restart and
# every restored process then have uid and gid 65534 and no group of root's,
# and the program finishes with the uninterrupted run's output. Needs root.
. "$(dirname "$0")/harness.sh"
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: only root can restart another user's computation"
  exit 77
fi
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if ! "${as_nobody[@]}" test -x "$CKPT_BIN/ckpt_launch" -a -r "$CKPT_BIN/../lib/libckpt.so" -a -x "$H_PROGRAMS/it_heap_churn"; then
  echo "skipped: uid 65534 cannot run the tools in $CKPT_BIN"
  exit 77
fi
h_init
# Descriptors this test inherited (ctest's log file) are root's files: the
# user's program would hold them, and its restart as that user could not
# reopen them (a refusal, rightly).
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ] && eval "exec $fd>&-"
done
# The user's side of the harness: its tools run as uid 65534 (ckpt_restart,
# from the restart script, stays root's).
user_bin=$H_TMP/user/bin
mkdir -p "$user_bin" "$H_TMP/user/lib"
for tool in ckpt_launch ckpt_coordinator ckpt_command; do
  printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ %q "$@"\n' \
    "$CKPT_BIN/$tool" >"$user_bin/$tool"
  chmod 0755 "$user_bin/$tool"
done
ln -s "$CKPT_BIN/ckpt_restart" "$user_bin/ckpt_restart"
ln -s "$CKPT_BIN/../lib/libckpt.so" "$H_TMP/user/lib/libckpt.so"
chown -R 65534:65534 "$H_TMP"
real_bin=$CKPT_BIN
CKPT_BIN=$user_bin
h_first_checkpoint 3 "$H_PROGRAMS/it_heap_churn" 8 40 80
h_kill_app
CKPT_BIN=$real_bin
owner=$(stat -c %u "$(ls "$H_CKPTDIR"/*.ckpt | head -1)")
[ "$owner" = 65534 ] || h_fail "the image belongs to uid $owner, not 65534"

h_restart "$H_OUT"
h_wait_step "$H_OUT" $(($(h_max_step "$H_OUT") + 1))
for pid in "$H_APP_PID" $(h_descendants "$H_APP_PID"); do
  ids=$(awk '/^(Uid|Gid):/ { printf "%s %s %s %s %s\n", $1, $2, $3, $4, $5 }' "/proc/$pid/status" 2>/dev/null) || continue
  groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$pid/status")
  h_log "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)): $(tr '\n' ' ' <<<"$ids")groups$groups"
  [ "$ids" = "Uid: 65534 65534 65534 65534
Gid: 65534 65534 65534 65534" ] || h_fail "process $pid does not run as uid/gid 65534: $ids"
  grep -qw 0 <<<"$groups" && h_fail "process $pid kept root's group 0: $groups"
done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
echo PASS
