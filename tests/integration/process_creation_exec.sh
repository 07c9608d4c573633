#!/bin/bash
# process_creation_exec.sh PROG: a program execs another with an empty
# environment. The exec'ed program still runs under libckpt (LD_PRELOAD and
# CKPT_* put back, the hand-over variables hidden), is the same worker to
# the coordinator (one process, renamed), and a checkpoint after the exec
# has an image of the exec'ed program that restarts.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/process_creation_lib.sh"
prog=$1
h_init
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" exec-cleared exec_target "$prog" wait 40
h_wait_step "$out" 3
h_command --json --list >"$H_TMP/list.json"
python3 - "$H_TMP/list.json" <<'PY' || h_fail "coordinator list after exec: $(cat "$H_TMP/list.json")"
import json, sys
procs = json.load(open(sys.argv[1]))["processes"]
assert len(procs) == 1, procs
assert procs[0]["program"] == "exec_target", procs
assert procs[0]["id"] == 1, "the exec'ed program must keep the connection (no new worker)"
PY
h_checkpoint
pc_expect_images 1 'ckpt_exec_target_*_g1.ckpt'
h_kill_app
h_restart "$out"
h_wait_app_exit
{
  echo "libckpt preloaded: yes"
  echo "coordinator port known: yes"
  echo "hand-over variables hidden: yes"
  for i in $(seq 40); do echo "step $i"; done
  echo done
} >"$H_TMP/expected.out"
h_compare "$H_TMP/expected.out" "$out"
echo PASS
