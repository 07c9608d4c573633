#!/bin/bash
# dmtcp_dlsym.sh PROG LIB: a DMTCP-style wrapper library (LIB, preloaded
# with --with-plugin) wraps rand() and calls the C library's through
# dmtcp_dlsym(RTLD_NEXT, "rand"); PROG calls rand() once a step and looks
# symbols up with dmtcp_dlsym itself. Checkpointed, killed and restarted,
# the output must be the uninterrupted run's (LD_PRELOAD of LIB alone, plain
# dlsym): the same values, every call through the wrapper, whose next rand
# is the C library's.
. "$(dirname "$0")/harness.sh"
prog=$1 lib=$2
h_init
h_reference "$H_TMP/expected.out" env LD_PRELOAD="$lib" "$prog" 30 100
grep -qx "the wrapper's next rand is in libc.so.6" "$H_TMP/expected.out" ||
  h_fail "uninterrupted run: the wrapper did not find the C library's rand: $(tail -4 "$H_TMP/expected.out")"
grep -qx "step 30 rand [0-9]* calls 30" "$H_TMP/expected.out" || h_fail "uninterrupted run: rand() was not wrapped"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" --with-plugin "$lib" -- "$prog" 30 100
h_wait_step "$out" 5
h_checkpoint
h_kill_app
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo "PASS"
