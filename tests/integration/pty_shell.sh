#!/bin/bash
# pty_shell.sh CYCLES MODE ROUNDS NAP PAUSE: programs/pty_shell.py (a parent
# driving an interactive bash on a pty it opened, as script -qfc 'bash -i'
# does) through CYCLES rounds of checkpoint, kill and restart, each taken
# while a command sleeps in the foreground with bytes queued both ways. The
# final output must be an uninterrupted run's. After the first checkpoint,
# ckpt_info must show the pair as the program had it: the master in the
# parent, the slave at 0-2 in bash, bash's session controlled by it with the
# sleeping job in the foreground, and the typed-ahead bytes queued.
. "$(dirname "$0")/harness.sh"
[ $# -eq 5 ] || { echo "usage: $0 CYCLES MODE ROUNDS NAP PAUSE" >&2; exit 2; }
cycles=$1
prog=(python3 "$H_PROGRAMS/pty_shell.py" "$3" "$4" "$5" "$2")
command -v bash >/dev/null && command -v python3 >/dev/null || { echo "SKIP: needs bash and python3"; exit 77; }

# The pty section of the first checkpoint, as ckpt_info decodes it.
check_images() {
  local json=$H_TMP/info.json image
  for image in "$H_CKPTDIR"/ckpt_*.ckpt; do
    "$CKPT_BIN/ckpt_info" --json "$image" || h_fail "ckpt_info cannot decode $image"
  done >"$json"
  python3 - "$json" <<'PY' || h_fail "the images do not hold the pseudo-terminal as it was (see above)"
import json, sys
text = open(sys.argv[1]).read()
docs, dec, i = [], json.JSONDecoder(), 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    doc, i = dec.raw_decode(text, i)
    docs += doc if isinstance(doc, list) else [doc]

def section(doc, name):
    for s in doc.get("sections", []):
        if s.get("name") == name:
            return s.get("content")
    return None

def fail(why):
    print("FAIL:", why, file=sys.stderr)
    sys.exit(1)

by_prog = {}
for doc in docs:
    by_prog.setdefault(doc["process"]["progname"], []).append(doc)
ptys = [(d, section(d, "pty")) for d in docs if section(d, "pty")]
leaders = [(d, s) for d, s in ptys if s["pairs"]]
if len(leaders) != 1 or len(leaders[0][1]["pairs"]) != 1:
    fail(f"one image must save one pair, found {[(d['process']['progname'], len(s['pairs'])) for d, s in leaders]}")
parent, psec = leaders[0]
pair = psec["pairs"][0]
masters = [r for r in psec["descriptors"] if r["end"] == "master"]
if len(masters) != 1 or masters[0]["pair_id"] != pair["pair_id"]:
    fail(f"the parent must hold the master: {psec['descriptors']}")
sid = pair["session_vsid"]
leader = [(d, s) for d, s in ptys if d["process"]["virt_pid"] == sid]
if len(leader) != 1 or leader[0][0]["process"]["progname"] != "bash":
    fail(f"the pair must control the session of a bash holding it: session {sid}")
fds = sorted(r["fd"] for r in leader[0][1]["descriptors"] if r["end"] == "slave" and r["pair_id"] == pair["pair_id"])
if fds[:3] != [0, 1, 2]:
    fail(f"the session's bash must have the slave at 0, 1 and 2: {fds}")
# pty.fork's child opened the slave once: bash, the job and its sleep share it.
slaves = [r for d, s in ptys for r in s["descriptors"] if r["end"] == "slave"]
if len({r["desc_id"] for r in slaves}) != 1 or len({r["pair_id"] for r in slaves}) != 1:
    fail(f"every slave descriptor must be one description of the pair: {slaves}")
if pair["foreground_vpgid"] in (0, sid):
    fail(f"the sleeping job, not bash ({sid}), must have the foreground: {pair['foreground_vpgid']}")
if "ICANON" not in pair["termios"]["lflag_names"]:
    fail(f"the slave must be in canonical mode while the job runs: {pair['termios']}")
if not pair["input"].startswith("echo T") or "echo P" not in pair["input"]:
    fail(f"the typed-ahead lines must wait in the slave's input queue: {pair['input']!r}")
if "echo T" not in pair["output"]:
    fail(f"their echo must wait in the master's: {pair['output']!r}")
print(f"pty section: {pair['pts']}, input {pair['input']!r}, output {pair['output']!r}, "
      f"foreground group {pair['foreground_vpgid']}")
PY
}

h_init
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "${prog[@]}"
target=1
for ((cycle = 1; cycle <= cycles; cycle++)); do
  h_wait_step "$out" "$target"
  h_checkpoint
  h_kill_app
  [ "$cycle" -eq 1 ] && check_images
  target=$(($(h_max_step "$out") + 2))
  h_restart "$out"
done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
