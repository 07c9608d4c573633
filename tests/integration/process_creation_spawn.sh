#!/bin/bash
# process_creation_spawn.sh PROG: children made by system(), popen() (read
# and write), posix_spawn (with file actions and attributes), posix_spawnp,
# clone() and vfork()+exec are all part of the checkpoint: one image per
# process, each child's image named after the program it exec'ed.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/process_creation_lib.sh"
prog=$1
h_init
h_start_coordinator
# posix_spawnp reports EACCES rather than ENOENT for a missing program when
# a directory on PATH cannot be searched (as root's are for uid 65534).
PATH=$(IFS=:; for d in $PATH; do [ -x "$d" ] && printf '%s:' "$d"; done)
export PATH=${PATH%:}
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" 8 "$H_TMP"
pc_wait_line "$out" '^ready$'
# Each spawn returned once its child exec'ed (a shell, for system and popen);
# the shells exec sleep a moment later. A checkpoint before that would
# rightly save a shell: wait until the six children run sleep.
deadline=$((SECONDS + H_WAIT))
until [ "$(pgrep -c -x -P "$H_APP_PID" sleep)" -ge 6 ]; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "the children do not all run sleep within ${H_WAIT} s: $(ps -o pid=,comm= --ppid "$H_APP_PID" | tr '\n' ' ')"
  sleep 0.02
done
h_checkpoint
pc_expect_images 7 'ckpt_*_g1.ckpt'
pc_expect_images 6 'ckpt_sleep_*_g1.ckpt'
h_wait_app_exit
cat >"$H_TMP/expected.out" <<'END'
posix_spawnp echo: exit 0
posix_spawnp missing: No such file or directory
ready
posix_spawn: exit 0
clone: exit 0
vfork: exit 0
popen r: exit 0
popen w: exit 0
system: exit 0
system exit 3: exit 3
END
diff -u "$H_TMP/expected.out" "$out" || h_fail "output differs"
[ "$(cat "$H_TMP/spawn.out")" = "spawned-by-posix_spawnp" ] || h_fail "posix_spawn file actions: $(cat "$H_TMP/spawn.out")"
echo PASS
