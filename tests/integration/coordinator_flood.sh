#!/bin/bash
# coordinator_flood.sh: strangers cannot take a coordinator down (issue 8).
# The coordinator runs with 128 descriptors. 100 connections that announce a
# 1 MiB message are closed at once. 300 connections that say nothing (more
# than its descriptors) cost it little CPU and little log, and meanwhile the
# computation's own commands still get through: connections that have not
# authenticated are capped, the oldest closed first. A legitimate checkpoint
# succeeds during the flood, and its memory stays bounded. A slow client (half
# a header, then silence) is closed by the handshake timeout.
. "$(dirname "$0")/harness.sh"
h_init
portfile=$H_TMP/coordinator.port
(ulimit -n 128 && exec "$CKPT_BIN/ckpt_coordinator" --port 0 --port-file "$portfile") >"$H_TMP/coordinator.log" 2>&1 &
H_COORD_PID=$!
H_PORT=$(h_wait_port_file "$portfile" "$H_COORD_PID" "$H_TMP/coordinator.log") || exit 1
export CKPT_COORD_HOST=localhost CKPT_COORD_PORT=$H_PORT
h_launch "$H_TMP/app.out" -- "$H_PROGRAMS/it_heap_churn" 16 400 50
h_wait_procs 1

python3 - "$H_PORT" "$H_COORD_PID" "$CKPT_BIN/ckpt_command" <<'PY' || h_fail "the flood test failed (see above)"
import os, socket, struct, subprocess, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
def expect_closed(s, within, what):
    """s must be closed by the coordinator, without an answer, within `within` s."""
    s.settimeout(within)
    try:
        if s.recv(1) != b"":
            sys.exit(f"{what} got an answer instead of being closed")
    except socket.timeout:
        sys.exit(f"{what} was not closed within {within} s")
    except ConnectionResetError:
        pass
# Announcing 1 MiB before saying who one is: closed at once.
big = []
for _ in range(100):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(struct.pack("<IHHIiQQ", 0x54504b43, 2, 8, 1 << 20, 0, 0, 0))
    big.append(s)
for s in big:
    expect_closed(s, 5, "a connection announcing 1 MiB")
    s.close()
# Out of descriptors: no busy loop.
flood = []
for _ in range(300):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    flood.append(s)
before = cpu()
start = time.time()
for action in ("--status", "--checkpoint", "--list"):
    r = subprocess.run([sys.argv[3], "--coord-port", str(port), action], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        sys.exit(f"ckpt_command {action} failed during the flood: {r.stderr.strip()}")
print(f"status, checkpoint and list answered during the flood in {time.time() - start:.2f} s")
time.sleep(max(0.0, 3 - (time.time() - start)))
used = cpu() - before
rss = int(open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split()[0])
print(f"coordinator CPU during 3 s of flood: {used:.2f} s, resident {rss} KiB")
if rss > 64 * 1024:
    sys.exit(f"the coordinator grew to {rss} KiB during the flood")
for s in flood:
    s.close()
if used > 1.5:
    sys.exit("the coordinator spun while out of descriptors")
# A slow client (half a header, then nothing), alone: closed by the
# handshake timeout (10 s), not by the eviction of strangers above.
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(struct.pack("<IHHIiQQ", 0x54504b43, 2, 8, 32, 0, 0, 0)[:10])
slow_opened = time.time()
expect_closed(slow, 12, "a client that sent half a header")
waited = time.time() - slow_opened
print(f"the slow client was closed after {waited:.1f} s")
if waited < 9:
    sys.exit("the slow client was closed before the handshake timeout: by what?")
PY
size=$(stat -c %s "$H_TMP/coordinator.log")
[ "$size" -lt 65536 ] || h_fail "the coordinator logged $size bytes during the flood"
sleep 0.5
h_checkpoint
h_kill_app
echo PASS
