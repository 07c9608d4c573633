#!/bin/bash
# socket_outside.sh: a connection to a peer outside the computation (an
# echo server not under ckpt). (1) By default the checkpoint succeeds; after
# a restart ckpt_restart warns, naming the connection, and the program's
# reads see end-of-file and its writes fail (EPIPE), as if the server had
# closed it; the program goes on. (2) With --outside-connections=fail the
# checkpoint fails with one line naming the descriptor and the reason, and
# the program runs on undisturbed.
. "$(dirname "$0")/harness.sh"
h_init
port=$(h_free_port)
python3 -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
def serve(c):
    while (d := c.recv(4096)):
        c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$port" &
server=$!
h_on_exit "kill $server"
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
prog=("$H_PROGRAMS/it_socket_outside" "$port" 60)

h_log "part 1: the connection comes back closed"
h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" -- "${prog[@]}"
h_wait_step "$out" 3
h_checkpoint
h_kill_app
before=$(h_max_step "$out")
h_restart "$out"
h_wait_app_exit
grep -q "warning: .*fd [0-9]*, a TCP socket at 127.0.0.1:[0-9]* connected to 127.0.0.1:$port, whose peer is outside the computation, is closed" \
  "$H_TMP/restart.err" || h_fail "the restart does not warn about the outside connection: $(cat "$H_TMP/restart.err")"
# The restarted process repeats the steps between the checkpoint and the
# kill: its first one sees end-of-file.
grep -q "^step [0-9]*: closed (end-of-file)$" "$out" ||
  h_fail "no read after the restart sees end-of-file: $(tail -5 "$out")"
first=$(grep -m1 -n "closed (end-of-file)" "$out" | cut -d: -f1)
step=$(sed -n "${first}p" "$out" | awk '{print $2 + 0}')
[ "$step" -le "$((before + 1))" ] || h_fail "the connection worked after the restart until step $step"
tail -n +"$((first + 1))" "$out" | grep -q ': echo$' && h_fail "echoes after end-of-file: $(cat "$out")"
grep -qx "write after close: EPIPE" "$out" || h_fail "a write after the restart does not fail with EPIPE: $(tail -5 "$out")"
grep -qx "step 60: no connection" "$out" || h_fail "the program did not go on: $(tail -3 "$out")"

h_log "part 2: --outside-connections=fail"
kill "$H_COORD_PID" 2>/dev/null
h_start_coordinator
rm -f "$H_CKPTDIR"/*
out=$H_TMP/fail.out
h_launch "$out" --outside-connections=fail -- "${prog[@]}"
h_wait_step "$out" 3
status=0
h_command --checkpoint >"$H_TMP/refused.log" 2>&1 || status=$?
[ "$status" -ne 0 ] || h_fail "the checkpoint succeeded: $(cat "$H_TMP/refused.log")"
grep -q "fd [0-9]*, a socket, is connected to a peer outside the computation" "$H_TMP/refused.log" ||
  h_fail "the failure does not name the connection: $(cat "$H_TMP/refused.log")"
h_wait_app_exit
[ "$(grep -c ': echo$' "$out")" -eq 60 ] || h_fail "the program was disturbed: $(grep -v ': echo$' "$out")"
echo PASS
