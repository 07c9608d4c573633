#!/bin/bash
# checkpoint_restart.sh CYCLES FIRST_STEP PROG [ARG...]
# Runs PROG uninterrupted, then under ckpt_launch through CYCLES rounds of
# checkpoint, kill and restart from the newest restart script (the first
# round once PROG printed FIRST_STEP, later rounds while the restarted process
# runs), and checks the final output matches the uninterrupted run's.
. "$(dirname "$0")/harness.sh"
[ $# -ge 3 ] || { echo "usage: $0 CYCLES FIRST_STEP PROG [ARG...]" >&2; exit 2; }
h_cycle_test "$1" "$2" -- "${@:3}"
