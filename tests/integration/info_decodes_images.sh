#!/bin/bash
# info_decodes_images.sh PROG: ckpt_info decodes every section of the images
# of a checkpointed tree (programs/info_tree.c: a parent and a child on a
# terminal, which they also open, a pipe with bytes in flight, an open file at an offset, a file
# under the replace policy, a signal handler, an armed timer). No section may
# be left to hex or fail to decode, the decoded values must be what the
# program set up, and the text summary must show them too. The run then
# finishes as an uninterrupted one does.
. "$(dirname "$0")/harness.sh"
prog=$1
pty_run() { python3 "$H_SELF_DIR/pty_run.py" "$@"; }
h_init
mkdir "$H_TMP/ref" "$H_TMP/run"
touch "$H_TMP/ref/go" "$H_TMP/none.in"
pty_run "$H_TMP/none.in" "$H_TMP/expected.out" -- "$prog" "$H_TMP/ref" ||
  h_fail "uninterrupted run exited with $?: $(cat "$H_TMP/expected.out")"

h_start_coordinator
out=$H_TMP/actual.out
: >"$out"
pty_run "$H_TMP/none.in" "$out" -- "$CKPT_BIN/ckpt_launch" --join --ckptdir "$H_CKPTDIR" \
  --file-policy '*/keep.dat=replace' "$prog" "$H_TMP/run" >"$H_TMP/pty.log" 2>"$H_TMP/app.err" </dev/null &
H_APP_PID=$!
h_wait_step "$out" 1
h_wait_procs 2
h_checkpoint

"$CKPT_BIN/ckpt_info" --json "$H_CKPTDIR"/*.ckpt >"$H_TMP/images.json" || h_fail "ckpt_info --json failed"
python3 - "$H_TMP/images.json" "$(cd "$H_TMP/run" && pwd -P)" <<'PY' || h_fail "the decoded images do not match the program"
import codecs, json, sys

images = json.load(open(sys.argv[1]))
run = sys.argv[2]
assert isinstance(images, list) and len(images) == 2, f"{len(images)} images"


def data(section):
    return codecs.escape_decode(section["content"]["data"].encode())[0]


for img in images:
    for s in img["sections"]:
        assert s["schema"] is not None, f"{img['image']}: section {s['name']} has no decoder"
        assert "error" not in s, f"{img['image']}: {s['error']}"
        assert "content" in s, s["name"]
    names = [s["name"] for s in img["sections"]]
    for kind in ("layout", "pid", "fds", "signal", "timer"):
        assert names.count(kind) == 1, f"{img['image']}: sections {names}"
    assert img["header_fields"]["version"]["size"] == 4 and img["format_version"] >= 1
    assert all("data_offset" in r and "crc" in r and "prot" in r for r in img["regions"])


def section(img, name):
    return next(s for s in img["sections"] if s["name"] == name)


def fds(img):
    return {d["fd"]: d for d in section(img, "fds")["content"]["descriptors"]}


pids = {img["process"]["virt_pid"] for img in images}
(parent,) = [i for i in images if i["process"]["virt_ppid"] not in pids]
(child,) = [i for i in images if i is not parent]
pp, cp = section(parent, "pid")["content"], section(child, "pid")["content"]
assert pp["vpid"] == parent["process"]["virt_pid"] and cp["vppid"] == pp["vpid"], (pp, cp)
assert pp["pidtable_path"] and pp["pidtable_path"] == cp["pidtable_path"]

pf, cf = fds(parent), fds(child)
for table in (pf, cf):
    # The streams the computation inherited, a terminal; and the one it opened.
    for fd in (0, 1, 2):
        assert (table[fd]["kind"], table[fd]["stdio_index"], table[fd]["type"]) == ("stdio", fd, "char"), table[fd]
    assert (table[14]["kind"], table[14]["path"]) == ("tty", "/dev/tty"), table[14]
d = pf[10]
assert (d["kind"], d["path"], d["offset"], d["access"], d["policy"]) == ("file", run + "/data.txt", 6, "rdwr", "merge"), d
assert cf[10]["desc_id"] == d["desc_id"], "fd 10 is one description, shared by fork"
k = pf[11]
assert (k["kind"], k["path"], k["policy"], k["has_contents"]) == ("file", run + "/keep.dat", "replace", True), k
contents = [s for i in images for s in i["sections"] if s["name"] == "fdata." + k["desc_id"]]
assert len(contents) == 1 and data(contents[0]) == b"kept bytes", contents
r, w = pf[12], cf[13]
assert (r["kind"], r["access"], w["kind"], w["access"]) == ("pipe", "rdonly", "pipe", "wronly"), (r, w)
assert r["ino"] == w["ino"] and 13 not in pf and 12 not in cf
drained = [(i, s) for i in images for s in i["sections"] if s["name"] == f"pipe.{r['ino']}"]
assert len(drained) == 1, f"pipe bytes saved {len(drained)} times"
img, s = drained[0]
assert data(s) == b"in flight 42\n" and s["content"]["size"] == 13, s
assert fds(img)[12 if img is parent else 13]["has_drained"], "the image with the bytes does not say so"

sig = section(parent, "signal")["content"]
usr1 = [a for a in sig["actions"] if a["name"] == "SIGUSR1"]
assert len(usr1) == 1 and "SA_RESTART" in usr1[0]["flags"] and usr1[0]["handler"].startswith("0x"), sig["actions"]
real = section(parent, "timer")["content"]["timers"][0]
assert real["which"] == "real" and real["armed"] and 900 < real["value_sec"] <= 1000, real
layout = section(parent, "layout")["content"]
assert int(layout["start_code"], 16) < int(layout["end_code"], 16), layout
print("every section of both images decoded as the program set it up", file=sys.stderr)
PY

"$CKPT_BIN/ckpt_info" "$H_CKPTDIR"/*.ckpt >"$H_TMP/images.txt" || h_fail "ckpt_info failed"
for text in 'in flight 42\n' 'kept bytes' "$(cd "$H_TMP/run" && pwd -P)/data.txt" SIGUSR1 pidtable_path 'kind tty'; do
  grep -qF -- "$text" "$H_TMP/images.txt" || h_fail "the summary does not show '$text'"
done
grep -q 'no decoder\|cannot decode' "$H_TMP/images.txt" && h_fail "the summary left a section undecoded"
h_log "ckpt_info decodes both images"

touch "$H_TMP/run/go"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
