#!/bin/bash
# loss_accepted.sh: with --accept-loss (CKPT_ACCEPT_LOSS=1), a program that
# holds an io_uring instance (its rings mapped) and two netlink sockets is
# checkpointed: ckpt_command succeeds and warns about each descriptor and the
# ring memory; the image keeps the warnings; the restart warns again; the
# restored program runs on, and each lost descriptor is a placeholder whose
# reads see end-of-file and whose writes fail with EPIPE.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/fd_lib.sh"
h_init
probe=$H_TMP/probe
prog=("$H_PROGRAMS/it_loss_holder" both 2 100000 50 "$probe")
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" --accept-loss -- "${prog[@]}"
h_wait_step "$out" 4
h_checkpoint
log=$(cat "$H_TMP/command.log")
for expect in "fd 10 (an io_uring instance) was not saved" "fd 11 (a netlink datagram socket) was not saved" \
  "fd 12 (a netlink datagram socket) was not saved" "(shared with anon_inode:[io_uring]) was not saved"; do
  grep -qF -- "warning: " <<<"$log" && grep -qF -- "$expect" <<<"$log" ||
    h_fail "ckpt_command does not warn '$expect': $log"
done
# The image says so too: the descriptors are "lost", the ring memory a
# "lost" region, and the warnings are kept.
image=$(ls "$H_CKPTDIR"/*_g1.ckpt)
fd_records "$image" "$H_TMP/info.json"
for fd in 10 11 12; do fd_expect "$H_TMP/info.json" $fd kind lost; done
python3 - "$H_TMP/info.json" <<'PY' || h_fail "ckpt_info does not show the lost region and the warnings: $(cat "$H_TMP/info.json")"
import json, sys
img = json.load(open(sys.argv[1]))[0]
lost = [r for r in img["regions"] if "lost" in r["flags"]]
warnings = next(s for s in img["sections"] if s["name"] == "warnings")["content"]["warnings"]
sys.exit(0 if len(lost) == 1 and len(warnings) == 3 and all("was not saved" in w for w in warnings) else 1)
PY
h_kill_app
before=$(h_max_step "$out")

h_restart "$out"
h_wait_step "$out" $((before + 2))
for expect in "fd 10 (an io_uring instance) was not saved" "fd 11 (a netlink datagram socket) was not saved" \
  "(shared with anon_inode:[io_uring]) was not saved"; do
  grep -qF -- "$expect" "$H_TMP/restart.err" || h_fail "the restart does not warn '$expect': $(cat "$H_TMP/restart.err")"
done
touch "$probe"
h_wait_app_exit
for fd in 10 11 12; do
  grep -qx "probe fd $fd read: 0 bytes (end-of-file)" "$out" || h_fail "a read of fd $fd does not see end-of-file: $(grep probe "$out")"
  grep -qx "probe fd $fd write: EPIPE" "$out" || h_fail "a write to fd $fd does not fail with EPIPE: $(grep probe "$out")"
done
# The steps themselves go on as if nothing happened.
python3 - "$out" <<'PY' || h_fail "the restarted run's steps do not continue the checkpointed ones"
import sys
sums = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[:1] == ["step"]:
        sums.setdefault(int(f[1]), set()).add(f[2])
expect, ok = 0, True
for n in sorted(sums):
    expect = expect * 31 + n
    ok &= sums[n] == {str(expect % 2**64)}
sys.exit(0 if ok and sorted(sums) == list(range(1, max(sums) + 1)) else 1)
PY
echo PASS
