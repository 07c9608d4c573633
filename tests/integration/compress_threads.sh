#!/bin/bash
# compress_threads.sh THREADS CYCLES FIRST_STEP PROG [ARG...]
# checkpoint_restart.sh with the images compressed on THREADS threads
# (CKPT_COMPRESS_THREADS, ckpt_launch --compress-threads' twin): the final
# output must match the uninterrupted run's, and every image writer must
# have compressed on THREADS threads (its log says so), not fallen back to
# compressing alone.
. "$(dirname "$0")/harness.sh"
[ $# -ge 4 ] || { echo "usage: $0 THREADS CYCLES FIRST_STEP PROG [ARG...]" >&2; exit 2; }
threads=$1
shift
export CKPT_COMPRESS_THREADS=$threads CKPT_LOG=info
h_cycle_test "$1" "$2" -- "${@:3}"
written=$(cat "$H_TMP"/logs/*.log | grep -c "image writer: $threads compression threads")
[ "$written" -eq "$1" ] || h_fail "$written of $1 image writers say they compressed on $threads threads"
h_log "$written image writers compressed on $threads threads"
