#!/bin/bash
# process_creation_python.sh PROG: Python's subprocess with env={} and
# close_fds=True (it closes every descriptor above 2 in the child, then
# execs with an empty environment): the child still joins the computation.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/process_creation_lib.sh"
prog=$1
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
h_init
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- python3 -c '
import subprocess, sys
r = subprocess.run([sys.argv[1], "wait", "30"], env={}, close_fds=True)
print("child status", r.returncode)
' "$prog"
h_wait_step "$out" 2
h_checkpoint
pc_expect_images 2 'ckpt_*_g1.ckpt'
pc_expect_images 1 'ckpt_it_process_creation_tree_*_g1.ckpt'
h_wait_app_exit
grep -qx "child status 0" "$out" || h_fail "python's child failed: $(cat "$out")"
grep -qx "libckpt preloaded: yes" "$out" || h_fail "the child did not get LD_PRELOAD back: $(cat "$out")"
echo PASS
