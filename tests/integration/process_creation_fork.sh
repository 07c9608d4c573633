#!/bin/bash
# process_creation_fork.sh PROG: a program forks three children; a
# checkpoint has one image per process and the restart script lists them
# all; the program goes on undisturbed.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/process_creation_lib.sh"
prog=$1
h_init
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" fork 3 6
pc_wait_line "$out" '^ready$'
[ "$(pc_process_count)" -eq 4 ] || h_fail "the coordinator lists $(pc_process_count) processes, not 4"
h_checkpoint
pc_expect_images 4 'ckpt_it_process_creation_tree_*_g1.ckpt'
h_wait_app_exit
printf 'ready\nchild 0: exit 0\nchild 1: exit 1\nchild 2: exit 2\n' >"$H_TMP/expected.out"
diff -u "$H_TMP/expected.out" "$out" || h_fail "output differs"
echo PASS
