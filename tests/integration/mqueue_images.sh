#!/bin/bash
# mqueue_images.sh PROG STEPS SLEEP_MS: what section "mqueue" holds, read
# through ckpt_info, for programs/mq_pipeline.c (a parent, a producer and a
# notified child): every queue descriptor with its access mode and
# O_NONBLOCK, each queue once with its attributes, mode, name (the unlinked
# one as unlinked) and messages in mq_receive's order, and the notified
# child's registrations (SIGEV_NONE; SIGEV_SIGNAL with SIGUSR1 and
# SIGEV_THREAD unless they just fired); the summary shows them too. Crafted sections are refused by
# ckpt_restart --verify with one line. A restart while a queue of the same
# name with other attributes exists fails with one line naming it; once it
# is gone the images restart, and the program finishes as an uninterrupted
# run does.
. "$(dirname "$0")/harness.sh"
prog=$1 steps=$2 sleep_ms=$3
prefix=/ckpt_it_mq_$$
h_init
h_on_exit "'$prog' --unlink $prefix"
h_reference "$H_TMP/expected.out" "$prog" "$prefix" "$steps" "$sleep_ms"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$prog" "$prefix" "$steps" "$sleep_ms"
h_wait_step "$out" 5  # the unlinked queue holds 3 or 4 messages from then on
h_wait_procs 3
h_checkpoint

"$CKPT_BIN/ckpt_info" --json "$H_CKPTDIR"/*.ckpt >"$H_TMP/images.json" || h_fail "ckpt_info --json failed"
python3 - "$H_TMP/images.json" "$prefix" <<'PY' || h_fail "the decoded mqueue sections do not match the program"
import json, re, sys

images = json.load(open(sys.argv[1]))
prefix = sys.argv[2]
assert len(images) == 3, f"{len(images)} images"
def section(img):
    (s,) = [s for s in img["sections"] if s["name"] == "mqueue"]
    assert s["schema"] is not None and "error" not in s, s
    return s["content"]
pids = {i["process"]["virt_pid"] for i in images}
(parent,) = [i for i in images if i["process"]["virt_ppid"] not in pids]
children = [i for i in images if i is not parent]
queues = {}
for img in images:
    for q in section(img)["queues"]:
        assert q["name"] not in queues, q["name"]
        queues[q["name"]] = (img, q)
assert sorted(queues) == sorted(f"{prefix}_{l}" for l in "DCKNTRXU"), sorted(queues)
# Each queue is led by one process, through one of its own descriptors.
for img in images:
    s = section(img)
    for d in s["descriptors"]:
        (owner, q) = [(i, q) for i, q in queues.values() if q["queue_id"] == d["queue_id"]][0]
        assert owner["process"]["virt_pid"] == d["queue_vpid"], d
d_img, d = queues[f"{prefix}_D"]
assert (d["maxmsg"], d["msgsize"], d["mode"], d["unlinked"]) == (6, 64, "600", False), d
assert 0 <= d["curmsgs"] <= 6 and len(d["messages"]) == d["curmsgs"], d
prios = [m["priority"] for m in d["messages"]]
assert prios == sorted(prios, reverse=True), prios
for m in d["messages"]:
    assert re.fullmatch(r"batch \d+ item \d", bytes.fromhex(m["bytes"]).decode()), m
# Within a priority, FIFO: item numbers of one batch rise.
for p in set(prios):
    items = [bytes.fromhex(m["bytes"]).decode() for m in d["messages"] if m["priority"] == p]
    assert items == sorted(items, key=lambda t: (int(t.split()[1]), int(t.split()[3]))), items
u = queues[f"{prefix}_U"][1]
assert u["unlinked"] and u["maxmsg"] == 5 and u["curmsgs"] in (3, 4), u
# The parent's descriptors: access modes and O_NONBLOCK as it opened them.
pd = section(parent)["descriptors"]
by_queue = {[n for n, (i, q) in queues.items() if q["queue_id"] == x["queue_id"]][0][-1]: x for x in pd}
want = {"D": ("O_RDONLY", False), "C": ("O_RDONLY", False), "K": ("O_WRONLY", False), "N": ("O_WRONLY", False),
        "T": ("O_WRONLY", True), "R": ("O_RDONLY", False), "X": ("O_WRONLY", False), "U": ("O_RDWR", True)}
assert sorted(by_queue) == sorted(want), sorted(by_queue)
for l, (access, nonblock) in want.items():
    assert (by_queue[l]["access"], by_queue[l]["nonblock"]) == (access, nonblock), (l, by_queue[l])
# The notified child's registrations, led by it. SIGEV_NONE on X holds
# throughout; N's and T's fire at each message and are made again once the
# child has it, so a checkpoint finds each either registered (and led by the
# child), or fired with its message still in the queue.
x = queues[f"{prefix}_X"]
assert x[1]["notify"]["kind"] == "SIGEV_NONE", x[1]
notified = x[0]
assert notified in children and x[1]["notify"]["vpid"] == notified["process"]["virt_pid"], x[1]
n = queues[f"{prefix}_N"]
if n[1]["notify"]:
    assert n[0] is notified, n[1]
    assert n[1]["notify"]["kind"] == "SIGEV_SIGNAL" and n[1]["notify"]["signal"] == "SIGUSR1", n[1]
    assert int(n[1]["notify"]["value"], 16) >= 100 and n[1]["notify"]["vpid"] == notified["process"]["virt_pid"], n[1]
else:
    assert n[1]["curmsgs"] == 1 and bytes.fromhex(n[1]["messages"][0]["bytes"]).startswith(b"signal-"), n[1]
t = queues[f"{prefix}_T"]
if t[1]["notify"]:
    assert t[0] is notified, t[1]
    assert t[1]["notify"]["kind"] == "SIGEV_THREAD" and int(t[1]["notify"]["value"], 16) >= 500, t[1]
else:
    assert t[1]["curmsgs"] == 1 and bytes.fromhex(t[1]["messages"][0]["bytes"]).startswith(b"thread-"), t[1]
PY
h_log "section mqueue decoded as the program set it up"
"$CKPT_BIN/ckpt_info" "$H_CKPTDIR"/*.ckpt >"$H_TMP/images.txt" || h_fail "ckpt_info failed"
for text in "name ${prefix}_D" "kind SIGEV_NONE" "unlinked true" "maxmsg 6" "access O_WRONLY  nonblock true"; do
  grep -qF -- "$text" "$H_TMP/images.txt" || h_fail "the summary does not show '$text'"
done

# Crafted sections, refused with one line by ckpt_restart --verify.
parent_image=$(h_root_image "$H_TMP/images.json")
h_check_crafted mqueue "$parent_image" version 'has version 99, this ckpt reads version 1' section-patch=mqueue:0:63000000
h_check_crafted mqueue "$parent_image" short '10 bytes, shorter than its 24-byte header' section-size=mqueue:10
h_check_crafted mqueue "$parent_image" fd 'has descriptor number -5' section-patch=mqueue:24:fbffffff

# A queue of D's name with other attributes (the default ones) is not ours:
# the restart stops with one line naming it.
h_kill_app
python3 - "${prefix}_D" <<'PY' || h_fail "cannot put another queue in place"
import ctypes, os, sys
rt = ctypes.CDLL("librt.so.1", use_errno=True)
name = sys.argv[1].encode()
rt.mq_unlink(name)
if rt.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, None) < 0:
    sys.exit(f"mq_open: {os.strerror(ctypes.get_errno())}")
PY
status=0
"$H_CKPTDIR/ckpt_restart_script.sh" >/dev/null 2>"$H_TMP/conflict.err" </dev/null || status=$?
[ "$status" -ne 0 ] && grep -qE "POSIX message queue ${prefix}_D .* exists with maxmsg 10, msgsize 8192 .* not this computation's" "$H_TMP/conflict.err" ||
  h_fail "a restart over another queue of the same name exited with $status: $(cat "$H_TMP/conflict.err")"
h_log "refused: $(grep 'exists with' "$H_TMP/conflict.err")"
python3 -c 'import ctypes, sys; ctypes.CDLL("librt.so.1").mq_unlink(sys.argv[1].encode())' "${prefix}_D"

h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
