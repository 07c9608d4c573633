#!/bin/bash
# tree_pid_virtual.sh PROG: pid virtualization after a restart with new real
# pids (ckpt_restart --no-restore-pids, so this holds as root too). PROG
# (programs/tree_pid_virtual.c) signals, inspects and finally waits for its
# child by the pids it saw before the restart. The test also checks that the
# restored processes really run under other pids than the original ones.
. "$(dirname "$0")/harness.sh"
prog=$1
h_init
h_reference "$H_TMP/expected.out" "$prog" 40 100
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" 40 100
h_wait_step "$out" 5
h_wait_procs 2
mapfile -t original < <(h_list_json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    print(p["real_pid"])')
h_log "original real pids: ${original[*]}"
h_checkpoint
h_kill_app
h_restart "$out" --no-restore-pids
h_wait_step "$out" $(($(h_max_step "$out") + 2))
h_wait_procs 2
for pid in "${original[@]}"; do
  h_gone "$pid" || h_fail "pid $pid is alive again after ckpt_restart --no-restore-pids: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
done
h_log "restored processes run under new real pids: $(h_descendants "$H_APP_PID" | tr '\n' ' ')"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
