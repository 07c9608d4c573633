#!/bin/bash
# coordinator_log.sh: peers cannot make a daemon's log grow without bound
# (issue 8). A daemon with --log-size 16384 gets 3,000 connections that
# each send a bad header (one log line each); afterwards its log file and
# the one rotated to LOG.1 each hold at most 16384 bytes, nothing else is
# left, the lines it dropped over its rate are counted in a line, and the
# coordinator still answers.
. "$(dirname "$0")/harness.sh"
h_init
limit=16384
log=$H_TMP/logdir/coordinator.log
mkdir "$H_TMP/logdir"
"$CKPT_BIN/ckpt_coordinator" --port 0 --port-file "$H_TMP/port" --daemon --log "$log" --log-size "$limit" ||
  h_fail "the daemon did not start"
H_PORT=$(cat "$H_TMP/port")
H_COORD_PID=$(h_command --status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])') ||
  h_fail "no status from the daemon"
h_log "daemon pid $H_COORD_PID on port $H_PORT"

# flood N: N connections that each send a bad header, 50 at a time, so
# that even a loaded machine goes far over the rate. With "until-dropped",
# it keeps on (up to 60,000) until more lines came than the budget of 1,000
# plus 100 a second can have let through. Not more at once: the coordinator
# closes unauthenticated connections beyond 64 without a line each (on an
# idle machine, 200 at a time made fewer than 1,000 lines of 3,000
# connections, and nothing was dropped).
flood() {
  python3 - "$H_PORT" "$@" <<'PY' || h_fail "the flood failed"
import socket, struct, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
until_dropped = len(sys.argv) > 3
bad = struct.pack("<IHHIiQQ", 0xdeadbeef, 1, 1, 0, 0, 0, 0)
start, sent = time.monotonic(), 0
while sent < count or (until_dropped and sent < 60000 and sent < 1000 + 100 * (time.monotonic() - start) + 500):
    batch = []
    for _ in range(min(50, max(1, count - sent)) if not until_dropped else 50):
        batch.append(socket.create_connection(("127.0.0.1", port)))
    for s in batch:
        s.sendall(bad)
    for s in batch:
        s.settimeout(5)
        try:
            s.recv(1)  # closed by the coordinator
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
    sent += len(batch)
if until_dropped and sent >= 60000:
    sys.exit("60,000 connections took %.1f s: the coordinator is too slow to go over its rate" % (time.monotonic() - start))
PY
}
flood 3000 until-dropped
h_command --status >/dev/null || h_fail "the coordinator does not answer after the flood"
for f in "$log" "$log.1"; do
  [ -f "$f" ] || h_fail "$f is missing: the log was not rotated ($(ls -l "$H_TMP/logdir"))"
  size=$(stat -c %s "$f")
  h_log "$(basename "$f"): $size bytes"
  [ "$size" -le "$limit" ] || h_fail "$f has $size bytes, over --log-size $limit"
done
others=$(ls "$H_TMP/logdir" | grep -vxF -e coordinator.log -e coordinator.log.1) &&
  h_fail "files besides the log and LOG.1: $others"
# Over the rate, lines are dropped and counted in the next line written.
sleep 1.5
flood 1
grep -qE 'WARN: [0-9]+ log lines? dropped \(more than [0-9]+ a second\)' "$log" "$log.1" ||
  h_fail "no line counts the dropped lines: $(tail -5 "$log")"
h_command --quit >/dev/null
h_wait_exit "$H_COORD_PID" 10 || h_fail "the daemon did not quit"
echo PASS
