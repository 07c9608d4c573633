#!/bin/bash
# restart_proc_identity.sh: what outside tools see of a restored process.
# After a restart (with new kernel pids), /proc/PID/cmdline and environ are
# the program's own (ps shows the program and its arguments, not
# ckpt_restart), and its break is where the program left it. With
# CAP_CHECKPOINT_RESTORE (root here), /proc/PID/exe names the program too;
# without it the kernel keeps ckpt_restart's name there (a known limit).
. "$(dirname "$0")/harness.sh"
prog=$H_PROGRAMS/it_restart_devices
h_init
h_start_coordinator
out=$H_TMP/actual.out
CKPT_TEST_MARK=restored-environment h_launch "$out" -- "$prog" 60 50
h_wait_step "$out" 3
h_checkpoint
h_kill_app
h_restart "$out" --no-restore-pids
h_wait_procs 1

real_pid=$(h_list_json | python3 -c 'import json, sys; print(json.load(sys.stdin)["processes"][0]["real_pid"])')
[ -r "/proc/$real_pid/cmdline" ] || h_fail "no /proc/$real_pid for the restored process"
cmdline=$(tr '\0' ' ' <"/proc/$real_pid/cmdline")
[ "$cmdline" = "$prog 60 50 " ] || h_fail "/proc/$real_pid/cmdline is '$cmdline', not the program's"
tr '\0' '\n' <"/proc/$real_pid/environ" | grep -qx CKPT_TEST_MARK=restored-environment ||
  h_fail "/proc/$real_pid/environ lacks the program's environment"
h_log "cmdline and environ are the program's"
if [ "$(id -u)" -eq 0 ]; then
  exe=$(readlink "/proc/$real_pid/exe")
  [ "$exe" = "$(readlink -f "$prog")" ] || h_fail "/proc/$real_pid/exe is '$exe', not the program"
  h_log "exe is the program"
fi
h_wait_app_exit
echo PASS
