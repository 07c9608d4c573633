#!/bin/bash
# event_images.sh PROG STEPS: what section "event" holds, read through
# ckpt_info, for programs/event_loop.c (a parent and a forked child): every
# event descriptor with the state the program gave it, shared objects under
# one desc_id in both images, the epoll interest lists (one watches a UNIX
# socket, another epoll instance, which watches a pipe) with their data
# values and flags, the inotify watch with its path; the summary shows them too.
# Then: a checkpoint while the watched directory's path names another file
# is refused with a line naming the descriptor and the path; crafted
# sections (wrong version, short, wrong count, bad descriptor number,
# unknown kind) are refused by ckpt_restart --verify with one line and shown
# as undecodable by ckpt_info; the intact images restart, and the program
# finishes as an uninterrupted run does.
. "$(dirname "$0")/harness.sh"
prog=$1
steps=$2
h_init
h_reference "$H_TMP/expected.out" "$prog" "$steps"
h_start_coordinator
out=$H_TMP/actual.out
export TMPDIR=$H_TMP
h_launch "$out" -- "$prog" "$steps"
h_wait_step "$out" 3
h_wait_procs 2
h_checkpoint

"$CKPT_BIN/ckpt_info" --json "$H_CKPTDIR"/*.ckpt >"$H_TMP/images.json" || h_fail "ckpt_info --json failed"
python3 - "$H_TMP/images.json" "$H_TMP" >"$H_TMP/watched" <<'PY' || h_fail "the decoded event sections do not match the program"
import json, os, signal, sys

images = json.load(open(sys.argv[1]))
assert len(images) == 2, f"{len(images)} images"
for img in images:
    for s in img["sections"]:
        assert s["schema"] is not None and "content" in s and "error" not in s, (img["image"], s["name"], s.get("error"))
pids = {img["process"]["virt_pid"] for img in images}
(parent,) = [i for i in images if i["process"]["virt_ppid"] not in pids]
(child,) = [i for i in images if i is not parent]


def event(img):
    (s,) = [s for s in img["sections"] if s["name"] == "event"]
    return {d["fd"]: d for d in s["content"]["descriptors"]}


pe, ce = event(parent), event(child)
by_kind = lambda table, kind: [d for d in table.values() if d["kind"] == kind]
vpid = parent["process"]["virt_pid"]
(epoll, inner) = sorted((d for d in by_kind(pe, "epoll") if d["leader"]), key=lambda d: -len(d["watches"]))
dup = pe[50]
(counter,) = [d for d in pe.values() if d["leader"] and d["desc_id"] == dup["desc_id"]]
assert counter["kind"] == "eventfd" and counter["leader"] and not counter["semaphore"], counter
assert dup["kind"] == "eventfd" and not dup["leader"] and dup["desc_id"] == counter["desc_id"], dup
(semaphore,) = [d for d in by_kind(pe, "eventfd") if d.get("semaphore")]
timers = by_kind(pe, "timerfd")
assert len(timers) == 3 and all(t["leader"] for t in timers), timers
(periodic,) = [t for t in timers if t["interval_nsec"] == 10_000_000]
assert periodic["clock"] == "CLOCK_MONOTONIC" and periodic["armed"] and not periodic["absolute"], periodic
(absolute,) = [t for t in timers if t["absolute"]]
assert absolute["clock"] == "CLOCK_REALTIME" and absolute["value_sec"] > 1_600_000_000, absolute
(signalfd, reader) = sorted(by_kind(pe, "signalfd"), key=lambda d: len(d["signals"]))
assert signalfd["signals"] == ["SIGUSR1"], signalfd
# The reader thread's signalfd asked for every signal but SIGUSR1: libckpt's
# suspend signal (CKPT_SIGNAL, by default SIGRTMAX - 2) is left out.
suspend = int(os.environ.get("CKPT_SIGNAL") or signal.SIGRTMAX - 2)
assert "SIGUSR2" in reader["signals"] and "SIGUSR1" not in reader["signals"], reader
assert f"SIGRTMIN+{suspend - signal.SIGRTMIN}" not in reader["signals"], reader["signals"]
(inotify,) = by_kind(pe, "inotify")
(watch, sub) = sorted(inotify["watches"], key=lambda w: w["wd"])
assert watch["wd"] == 1 and "IN_CREATE" in watch["mask_names"], watch
# Watch 2 was removed: the restart must skip it to give b watch 3 again.
assert sub["wd"] == 3 and sub["path"] == watch["path"] + "/b", sub
assert os.path.dirname(watch["path"]) == os.path.realpath(sys.argv[2]), watch

# The interest list: data values as the program set them, one adder.
items = {w["tfd"]: w for w in epoll["watches"]}
assert len(items) == 12, items
# fd 70 is the child's only: the child adds its watch again.
(remote,) = [w for w in items.values() if w["data"] == "0x7e30000000000008"]
assert remote["tfd"] == 70 and remote["via_fd"] == 70 and remote["adder_vpid"] == child["process"]["virt_pid"], remote
assert 70 not in pe and all(w["adder_vpid"] == vpid for w in items.values() if w is not remote), items
# The eventfd moved to fd 60 after it was added: the watch keeps its old
# number, and is added again through fd 60.
(moved,) = [w for w in items.values() if w["data"] == "0x3076000000000007"]
assert moved["via_fd"] == 60 and moved["tfd"] != 60, moved
assert all(w["via_fd"] == w["tfd"] for w in items.values() if w is not moved), items
assert "EPOLLET" in items[counter["fd"]]["event_names"] and int(items[counter["fd"]]["data"], 16) > 4096, items
assert items[semaphore["fd"]]["data"] == "0x5e3a000000000001", items[semaphore["fd"]]
assert items[absolute["fd"]]["data"] == "0xab50000000000002"
oneshot = [t for t in timers if t is not periodic and t is not absolute][0]
assert items[inner["fd"]]["data"] == "0x1223000000000004", items[inner["fd"]]
(child_item,) = [w for w in items.values() if w["data"] == "0xc41d000000000003"]
assert "EPOLLEXCLUSIVE" in child_item["event_names"], child_item
(piped,) = inner["watches"]
assert piped["data"] == "0x919e000000000006" and piped["adder_vpid"] == vpid, piped
assert "EPOLLONESHOT" in items[oneshot["fd"]]["event_names"], items[oneshot["fd"]]

# The child holds the same objects (fork), led by the parent, and fd 70; its
# own epoll instance watches the request eventfd.
assert ce[70]["kind"] == "eventfd" and ce[70]["leader"], ce[70]
for fd, d in pe.items():
    if d is reader:  # made after the fork
        continue
    assert fd in ce and ce[fd]["desc_id"] == d["desc_id"] and not ce[fd]["leader"], (fd, ce.get(fd))
(own,) = [d for d in ce.values() if d["leader"] and d["fd"] != 70]
assert own["kind"] == "epoll" and len(own["watches"]) == 1 and own["watches"][0]["data"] == "0x7", own
assert own["watches"][0]["adder_vpid"] == child["process"]["virt_pid"]
print(watch["path"])
PY
watched=$(cat "$H_TMP/watched")
h_log "section event decoded as the program set it up (watched $watched)"
"$CKPT_BIN/ckpt_info" "$H_CKPTDIR"/*.ckpt >"$H_TMP/images.txt" || h_fail "ckpt_info failed"
for text in "kind epoll" "kind timerfd" "clock CLOCK_REALTIME" "signals SIGUSR1" "data 0x5e3a000000000001" \
  "event_names EPOLLIN,EPOLLERR,EPOLLHUP,EPOLLET" "path $watched" "semaphore true"; do
  grep -qF -- "$text" "$H_TMP/images.txt" || h_fail "the summary does not show '$text'"
done

# A watch whose path names another file now cannot be restored: refused,
# naming the descriptor and the path. (The program goes on meanwhile: the
# old path is a link to the directory.)
mv "$watched" "$watched.moved" && ln -s "$watched.moved" "$watched" || h_fail "cannot move $watched"
h_refused_checkpoint
echo "$H_REFUSAL" | grep -qE "fd [0-9]+ \(an inotify instance\): its watch 1 cannot be restored: $watched no longer names the watched file" ||
  h_fail "the refusal does not name the inotify descriptor and its path: $H_REFUSAL"
rm "$watched" && mv "$watched.moved" "$watched" || h_fail "cannot move $watched back"

# Crafted sections, refused with one line by ckpt_restart --verify.
parent_image=$(h_root_image "$H_TMP/images.json")
h_check_crafted event "$parent_image" version 'has version 99, this ckpt reads version 1' section-patch=event:0:63000000
h_check_crafted event "$parent_image" short '10 bytes, shorter than its 16-byte header' section-size=event:10
h_check_crafted event "$parent_image" count '[0-9]+ descriptors, .* need [0-9]+ bytes, it has' section-patch=event:4:ff000000
h_check_crafted event "$parent_image" fd 'has descriptor number -5' section-patch=event:16:fbffffff
h_check_crafted event "$parent_image" kind 'fd [0-9]+ has unknown kind 9' section-patch=event:28:09000000
"$CKPT_BIN/ckpt_restart" --verify "$H_CKPTDIR"/*_g1.ckpt >/dev/null 2>"$H_TMP/verify.err" ||
  h_fail "the intact images do not verify: $(cat "$H_TMP/verify.err")"

h_kill_app
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
