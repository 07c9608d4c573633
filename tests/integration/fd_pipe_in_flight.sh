#!/bin/bash
# fd_pipe_in_flight.sh MODE RECORDS DELAY_US: bytes in flight in a pipe
# survive checkpoints (no restart): programs/fd_pipe_stream.c streams
# numbered records through a pipe that stays full; it is checkpointed twice
# mid-stream and must still receive every record once, in order. Each image
# set must hold the pipe's bytes once, in the image of the process that reads
# it (fd 10), as a run of consecutive records; the writer's end (fd 11) is a
# plain pipe end, not drained; stdout, inherited across fork, is one
# description with one desc_id in every image.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/fd_lib.sh"
mode=$1
prog=$H_PROGRAMS/it_fd_pipe_stream
h_init
status=0
"$prog" "$@" >"$H_TMP/expected.out" 2>"$H_TMP/reference.err" </dev/null || status=$?
if [ "$status" -eq 77 ]; then
  cat "$H_TMP/reference.err"
  exit 77
fi
[ "$status" -eq 0 ] || h_fail "uninterrupted run exited with $status: $(cat "$H_TMP/reference.err")"
# quota mode drops root to another uid, whose image writer must still write.
if [ "$mode" = quota ]; then
  chmod o+x "$H_TMP"
  chmod 1777 "$H_CKPTDIR" "$H_TMP/logs"
fi
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" "$@"

# check_images GENERATION: the pipe's bytes are saved once, by the reader.
check_images() {
  local gen=$1 image records reader= n=0 stdout_desc=
  for image in "$H_CKPTDIR"/*_g"$gen".ckpt; do
    [ -f "$image" ] || h_fail "no images of checkpoint $gen"
    records=$H_TMP/image.$n.json
    n=$((n + 1))
    fd_records "$image" "$records"
    if [ -n "$(fd_field "$records" 10 kind)" ]; then
      [ -z "$reader" ] || h_fail "two images hold the pipe's read end"
      reader=$image
      fd_expect "$records" 10 kind pipe
      fd_expect "$records" 10 has_drained true
      fd_section "$records" "pipe.$(fd_field "$records" 10 ino)" >"$H_TMP/pipe.bytes" ||
        h_fail "checkpoint $gen: no section pipe.<ino> in the reader's image"
    fi
    [ -z "$stdout_desc" ] && stdout_desc=$(fd_field "$records" 1 desc_id)
    fd_expect "$records" 1 desc_id "$stdout_desc"
    if [ -n "$(fd_field "$records" 11 kind)" ]; then
      fd_expect "$records" 11 kind pipe
      fd_expect "$records" 11 has_drained false
    fi
  done
  [ -n "$reader" ] || h_fail "checkpoint $gen: no image holds the pipe's read end"
  python3 - "$H_TMP/pipe.bytes" "$mode" <<'PY' || h_fail "checkpoint $gen: the saved pipe bytes are not a run of records"
import re, sys
data = open(sys.argv[1], "rb").read()
assert data and len(data) % 16 == 0, f"{len(data)} bytes"
numbers = [int(m) for m in re.findall(rb"record (\d{8})\n", data)]
assert len(numbers) * 16 == len(data), "malformed records"
assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "records out of order"
# quota mode: more than the two pages tee could have copied. (ckpt_info
# shows the first 64 KiB: a run of whole records too.)
assert sys.argv[2] != "quota" or len(data) > 8192, f"only {len(data)} bytes"
print(f"{len(numbers)} records in flight, from {numbers[0]}", file=sys.stderr)
PY
}

h_wait_step "$out" 5
h_checkpoint
check_images 1
h_wait_step "$out" 20
h_checkpoint
check_images 2
h_wait_app_exit
diff -u "$H_TMP/expected.out" "$out" || h_fail "records were lost, repeated or reordered"
echo PASS
