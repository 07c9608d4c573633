# Helpers of the fd tests: what plugins/fd saved in an image, read through
# `ckpt_info --json` (its decoder is plugins/fd/fd_schema.cpp). Source after
# harness.sh.

# fd_records IMAGE OUT: ckpt_info --json of IMAGE into OUT; fails the test
# unless its section "fds" decodes.
fd_records() {
  "$CKPT_BIN/ckpt_info" --json "$1" >"$2" || h_fail "ckpt_info cannot read $1"
  python3 -c '
import json, sys
img = json.load(open(sys.argv[1]))[0]
fds = [s for s in img["sections"] if s["name"] == "fds"]
sys.exit(0 if len(fds) == 1 and "content" in fds[0] else 1)' "$2" || h_fail "cannot decode section fds of $1"
}

# fd_field RECORDS FD NAME: field NAME of descriptor FD in RECORDS (from
# fd_records); "" if there is no such descriptor. Strings as they are, other
# values as JSON (true, 5).
fd_field() {
  python3 -c '
import json, sys
img = json.load(open(sys.argv[1]))[0]
fds = next(s for s in img["sections"] if s["name"] == "fds")["content"]
for d in fds["descriptors"]:
    if d["fd"] == int(sys.argv[2]):
        v = d[sys.argv[3]]
        print(v if isinstance(v, str) else json.dumps(v))' "$@"
}

# fd_table_field RECORDS NAME: field NAME of section "fds" itself (cwd, umask).
fd_table_field() {
  python3 -c '
import json, sys
img = json.load(open(sys.argv[1]))[0]
print(next(s for s in img["sections"] if s["name"] == "fds")["content"][sys.argv[2]])' "$@"
}

# fd_expect RECORDS FD NAME VALUE: fails the test unless they match.
fd_expect() {
  local got
  got=$(fd_field "$1" "$2" "$3")
  [ "$got" = "$4" ] || h_fail "$(basename "$1"): fd $2: $3 is '$got', expected '$4'"
}

# fd_section RECORDS NAME: the bytes of section NAME as ckpt_info shows them
# (at most its first 64 KiB); fails unless the section is there and decoded.
fd_section() {
  python3 -c '
import codecs, json, sys
img = json.load(open(sys.argv[1]))[0]
s = [s for s in img["sections"] if s["name"] == sys.argv[2]]
if len(s) != 1 or "content" not in s[0]:
    sys.exit(1)
sys.stdout.buffer.write(codecs.escape_decode(s[0]["content"]["data"].encode())[0])' "$@"
}
