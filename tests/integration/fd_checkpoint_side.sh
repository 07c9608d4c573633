#!/bin/bash
# fd_checkpoint_side.sh: the fd plugin's checkpoint side on one process that
# holds a descriptor of each kind (programs/fd_kinds.c). After a checkpoint
# the program must see every descriptor as it was (offsets, flags, the bytes
# in its pipe), and the image must describe them: kinds, shared
# descriptions, a deleted file's contents, the pipe's bytes, policies chosen
# by --file-policy/--file-policy-file globs (first match wins) with the
# replace-policy file's contents, umask and working directory.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/fd_lib.sh"
prog=$H_PROGRAMS/it_fd_kinds
h_init
mkdir "$H_TMP/ref" "$H_TMP/run"
touch "$H_TMP/ref/go"
h_reference "$H_TMP/expected.out" "$prog" "$H_TMP/ref"
h_start_coordinator
# A bad rule stops ckpt_launch before anything runs: one line, status 2.
status=0
"$CKPT_BIN/ckpt_launch" --join --file-policy '*.dat=keep' true >/dev/null 2>"$H_TMP/bad_policy.err" || status=$?
[ "$status" -eq 2 ] && [ "$(wc -l <"$H_TMP/bad_policy.err")" -eq 1 ] && grep -q "unknown policy" "$H_TMP/bad_policy.err" ||
  h_fail "a bad --file-policy gave status $status and: $(cat "$H_TMP/bad_policy.err")"
out=$H_TMP/actual.out
printf '# the first match wins\n*/policy_*.dat=replace\n*=ignore\n' >"$H_TMP/policies"
h_launch "$out" --file-policy '*/data.txt=append' --file-policy-file "$H_TMP/policies" -- "$prog" "$H_TMP/run"
h_wait_step "$out" 1
h_checkpoint
touch "$H_TMP/run/go"
h_wait_app_exit
diff -u "$H_TMP/expected.out" "$out" || h_fail "the checkpoint changed what the program saw"

image=$(ls "$H_CKPTDIR"/*.ckpt) || h_fail "no image"
records=$H_TMP/image.json
fd_records "$image" "$records"
"$CKPT_BIN/ckpt_info" "$image" >&2
field() { fd_field "$records" "$@"; }
expect() { fd_expect "$records" "$@"; }
section() { fd_section "$records" "$1"; }

[ "$(fd_table_field "$records" umask)" = 027 ] || h_fail "umask not saved as 027"
[ "$(fd_table_field "$records" cwd)" = "$(cd "$H_TMP/run" && pwd -P)" ] || h_fail "cwd not saved"
expect 0 kind device
expect 1 kind stdio
expect 1 stdio_index 1
expect 2 kind stdio
expect 2 stdio_index 2
expect 10 kind file
expect 10 offset 5
expect 10 policy append
expect 10 has_contents false
expect 13 policy merge
expect 11 desc_id "$(field 10 desc_id)"
[ "$(field 12 desc_id)" != "$(field 10 desc_id)" ] || h_fail "fds 10 and 12 are separate opens but share a desc_id"
expect 12 offset 2
expect 13 kind directory
expect 14 kind device
expect 15 kind deleted
expect 15 offset 3
expect 15 has_contents true
expect 16 kind pipe
expect 16 has_drained true
expect 17 kind pipe
expect 17 has_drained false
expect 18 policy replace
expect 18 has_contents true
expect 19 kind pipe
expect 19 fd_flags 1
# The pty master and its slave are plugins/pty's (section pty), not a
# terminal to bind to.
expect 20 kind elsewhere
expect 21 kind elsewhere
python3 -c '
import json, sys
img = json.load(open(sys.argv[1]))[0]
pty = next(s for s in img["sections"] if s["name"] == "pty")["content"]
ends = sorted((d["fd"], d["end"]) for d in pty["descriptors"])
sys.exit(0 if ends == [(20, "master"), (21, "slave")] and len(pty["pairs"]) == 1 else 1)' "$records" ||
  h_fail "section pty does not describe fds 20 and 21 as one pair"

[ "$(section "fdata.$(field 15 desc_id)")" = "contents of a deleted file" ] ||
  h_fail "the deleted file's contents are not in the image"
[ "$(section "fdata.$(field 18 desc_id)")" = "kept by the replace policy" ] ||
  h_fail "the replace-policy file's contents are not in the image"
[ "$(section "pipe.$(field 16 ino)")" = "in flight 1234567890" ] || h_fail "the pipe's bytes are not in the image"
h_log "image describes every descriptor"
echo PASS
