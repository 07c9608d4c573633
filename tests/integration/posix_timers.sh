#!/bin/bash
# posix_timers.sh CYCLES PROG [ARG...]
# PROG (programs/posix_timers.c) runs under ckpt_launch through CYCLES rounds
# of checkpoint, kill and restart; its output (which states its own
# tolerances) must match the uninterrupted run's. After the first checkpoint,
# ckpt_info must show the six timers decoded from the image: their clocks and
# notifications (the SIGEV_THREAD one as a signal to libckpt's helper thread),
# armed ones with time left.
. "$(dirname "$0")/harness.sh"
[ $# -ge 2 ] || { echo "usage: $0 CYCLES PROG [ARG...]" >&2; exit 2; }
cycles=$1
shift
h_init
h_reference "$H_TMP/expected.out" "$@"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "$@"
target=3
for ((cycle = 1; cycle <= cycles; cycle++)); do
  h_wait_step "$out" "$target"
  h_checkpoint
  if [ "$cycle" -eq 1 ]; then
    image=$(ls "$H_CKPTDIR"/*.ckpt | head -n 1)
    "$CKPT_BIN/ckpt_info" --json "$image" >"$H_TMP/info.json" || h_fail "ckpt_info $image failed"
    python3 - "$H_TMP/info.json" <<'PY' || h_fail "ckpt_info does not show the POSIX timers as expected: $(cat "$H_TMP/info.json" | head -c 3000)"
import json, sys
doc = json.load(open(sys.argv[1]))
def find(o):
    if isinstance(o, dict):
        if o.get("name") == "posix_timer" and "content" in o: return o["content"]
        for v in o.values():
            r = find(v)
            if r is not None: return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None: return r
timers = find(doc)
assert timers is not None, "no decoded posix_timer section"
got = sorted((t["clock"].split(" ")[0] if "cpu" in t["clock"] else t["clock"], t["notify"], t["armed"]) for t in timers["timers"])
want = sorted([("CLOCK_MONOTONIC", "SIGEV_SIGNAL", True), ("CLOCK_REALTIME", "SIGEV_THREAD_ID", True),
               ("process", "SIGEV_SIGNAL", True), ("thread", "SIGEV_SIGNAL", True),
               ("CLOCK_MONOTONIC", "SIGEV_THREAD_ID", True), ("CLOCK_MONOTONIC", "SIGEV_NONE", True)])
assert got == want, got
none = [t for t in timers["timers"] if t["notify"] == "SIGEV_NONE"][0]
assert 0 < none["value_sec"] <= 3600 and none["interval_sec"] == 0, none
PY
    h_log "ckpt_info decodes the six timers"
  fi
  h_kill_app
  target=$(($(h_max_step "$out") + 2))
  h_restart "$out"
done
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo PASS
