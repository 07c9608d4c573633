#!/bin/bash
# coordinator_listen.sh: the coordinator listens on 127.0.0.1 only unless
# told otherwise (issue 8: anybody who can reach its port controls the
# computation); --listen 0.0.0.0 (or ::) opens it to other hosts, and a
# --listen that is not a numeric address is a usage error. Read from the
# kernel's socket table: no traffic leaves this host.
. "$(dirname "$0")/harness.sh"
h_init

# listening_on PORT: the local addresses listening on PORT, as the kernel
# prints them (hex), IPv4 and IPv6.
listening_on() {
  python3 - "$1" <<'PY'
import sys
port = "%04X" % int(sys.argv[1])
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(table).readlines()[1:]:
        f = line.split()
        address, state = f[1], f[3]
        if state == "0A" and address.endswith(":" + port):
            print(address)
PY
}

h_start_coordinator
got=$(listening_on "$H_PORT")
[ "$got" = "0100007F:$(printf %04X "$H_PORT")" ] || h_fail "the default coordinator listens on: ${got:-nothing}"
h_launch "$H_TMP/app.out" -- "$H_PROGRAMS/it_heap_churn" 4 30 20
h_wait_procs 1
h_checkpoint

portfile=$H_TMP/all.port
"$CKPT_BIN/ckpt_coordinator" --listen 0.0.0.0 --port 0 --port-file "$portfile" >"$H_TMP/all.log" 2>&1 &
all_pid=$!
h_on_exit "kill $all_pid"
port=$(h_wait_port_file "$portfile" "$all_pid" "$H_TMP/all.log") || exit 1
got=$(listening_on "$port")
[ "$got" = "00000000:$(printf %04X "$port")" ] || h_fail "--listen 0.0.0.0 listens on: ${got:-nothing}"

status=0
"$CKPT_BIN/ckpt_coordinator" --listen everywhere --port 0 2>"$H_TMP/bad.err" || status=$?
[ "$status" -eq 2 ] && grep -qx "ckpt_coordinator: --listen: 'everywhere' is not a numeric IPv4 or IPv6 address" "$H_TMP/bad.err" ||
  h_fail "a bad --listen gave status $status: $(cat "$H_TMP/bad.err")"
h_wait_app_exit
echo PASS
