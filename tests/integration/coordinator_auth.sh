#!/bin/bash
# coordinator_auth.sh: only a connection that proves it knows the
# computation's secret reaches the coordinator (issue 8). A wrong or missing
# secret, a peer that skips the handshake or sends a wrong proof: refused with
# one log line, and the computation runs on. ckpt_launch never joins a
# coordinator it cannot authenticate (exit 2). Without --secret-file the
# secret lives in the private directory, mode 0600, and goes with a
# coordinator that ends normally. As root also: another user can neither
# command nor join root's computation, a user's coordinator refuses a third
# user's connection even with the secret, and the secret works from another
# network namespace over a veth pair.
. "$(dirname "$0")/harness.sh"
h_init

# raw_peer PORT MODE: speaks the wire protocol by hand and prints what the
# coordinator answered: "refused: REASON", "closed", or "challenge".
#   skip:  sends a kill command without the handshake
#   wrong: starts the handshake, then sends a proof made with no secret
raw_peer() {
  python3 - "$1" "$2" <<'PY'
import os, socket, struct, sys
port, mode = int(sys.argv[1]), sys.argv[2]
MAGIC, VERSION = 0x54504B43, 2
def header(kind, payload=b""):
    return struct.pack("<IHHIiQQ", MAGIC, VERSION, kind, len(payload), 0, 0, 0) + payload
def read_message(s):
    data = b""
    while len(data) < 32:
        chunk = s.recv(32 - len(data))
        if not chunk:
            return None, b""
        data += chunk
    _, _, kind, length, _, _, _ = struct.unpack("<IHHIiQQ", data)
    body = b""
    while len(body) < length:
        chunk = s.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return kind, body
s = socket.create_connection(("127.0.0.1", port), timeout=10)
if mode == "skip":
    s.sendall(header(44))  # CmdKill
else:
    s.sendall(header(8, os.urandom(32)))  # AuthStart
    kind, body = read_message(s)
    if kind == 27:
        print("refused:", body.decode())
        sys.exit(0)
    if kind != 26:
        print("unexpected", kind)
        sys.exit(0)
    s.sendall(header(9, os.urandom(32)))  # AuthProof, guessed
kind, body = read_message(s)
print("refused: " + body.decode() if kind == 27 else "closed" if kind is None else "unexpected %d" % kind)
PY
}

new_secret() {
  (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$1" && echo >>"$1")
}

# expect_fail STATUS PATTERN DESCRIPTION COMMAND...: COMMAND exits STATUS and
# says PATTERN on stderr.
expect_fail() {
  local want=$1 pattern=$2 what=$3 status=0
  shift 3
  "$@" >"$H_TMP/out" 2>"$H_TMP/err" || status=$?
  [ "$status" -eq "$want" ] && grep -q -- "$pattern" "$H_TMP/err" ||
    h_fail "$what: exit $status (want $want), said: $(cat "$H_TMP/out" "$H_TMP/err")"
  h_log "$what: refused ($(head -n 1 "$H_TMP/err"))"
}

h_start_coordinator
h_launch "$H_TMP/app.out" -- "$H_PROGRAMS/it_heap_churn" 4 400 50
h_wait_procs 1
h_command --status >/dev/null || h_fail "the right secret was refused"

new_secret "$H_TMP/wrong.secret"
expect_fail 1 "does not know this computation's secret" "ckpt_command with a wrong secret" \
  env CKPT_SECRET_FILE="$H_TMP/wrong.secret" "$CKPT_BIN/ckpt_command" --coord-port "$H_PORT" --kill
expect_fail 1 "no secret to prove" "ckpt_command without a secret" \
  "$CKPT_BIN/ckpt_command" --coord-port "$H_PORT" --secret-file "$H_TMP/none.secret" --checkpoint
chmod 644 "$H_TMP/wrong.secret"
expect_fail 1 "readable or writable by others" "ckpt_command with a secret others can read" \
  env CKPT_SECRET_FILE="$H_TMP/wrong.secret" "$CKPT_BIN/ckpt_command" --coord-port "$H_PORT" --status
chmod 600 "$H_TMP/wrong.secret"
expect_fail 2 "does not know this computation's secret" "ckpt_launch with a wrong secret" \
  env CKPT_SECRET_FILE="$H_TMP/wrong.secret" "$CKPT_BIN/ckpt_launch" --coord-port "$H_PORT" /bin/true
expect_fail 2 "no secret to prove it is ours" "ckpt_launch without a secret" \
  env CKPT_SECRET_FILE="$H_TMP/none.secret" "$CKPT_BIN/ckpt_launch" --join --coord-port "$H_PORT" /bin/true

got=$(raw_peer "$H_PORT" skip)
[[ $got == "refused: it did not authenticate first"* ]] || h_fail "a command without the handshake got: $got"
got=$(raw_peer "$H_PORT" wrong)
[[ $got == "refused: wrong secret"* ]] || h_fail "a guessed proof got: $got"
grep -q "refused: wrong secret" "$H_TMP/coordinator.log" || h_fail "no log line for the wrong proof"
grep -q "left during the handshake" "$H_TMP/coordinator.log" || h_fail "no log line for the client with a wrong secret"
[ "$(h_process_count)" -eq 1 ] && ! h_gone "$H_APP_PID" || h_fail "the program did not survive the refused connections"
h_checkpoint

# The default place: the private directory, made by the first tool that needs it.
(
  export TMPDIR=$H_TMP/tmp
  unset CKPT_SECRET_FILE
  mkdir "$TMPDIR"
  port=$(h_free_port)
  "$CKPT_BIN/ckpt_launch" --new-coordinator --coord-port "$port" --ckptdir "$H_TMP/ckpt2" \
    "$H_PROGRAMS/it_heap_churn" 4 100 20 >"$H_TMP/app2.out" 2>&1 &
  app=$!
  secret=$TMPDIR/ckpt-$(id -u)/coordinator-$port.secret
  deadline=$((SECONDS + 20))
  until "$CKPT_BIN/ckpt_command" --coord-port "$port" --list 2>/dev/null | grep -q it_heap_churn; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "the program never joined its coordinator on port $port"
    sleep 0.05
  done
  [ "$(stat -c %a "$secret")" = 600 ] || h_fail "$secret has mode $(stat -c %a "$secret")"
  "$CKPT_BIN/ckpt_command" --coord-port "$port" --checkpoint >/dev/null || h_fail "checkpoint with the default secret failed"
  wait "$app" || h_fail "the program under the default secret failed"
  deadline=$((SECONDS + 20))
  while [ -e "$secret" ]; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "the coordinator left its secret behind after its last process"
    sleep 0.05
  done
) || exit 1

if [ "$(id -u)" -ne 0 ]; then
  h_wait_app_exit
  echo "PASS (the other-user and network-namespace checks need root)"
  exit 0
fi

# Another user, without root's secret, can do nothing to root's computation.
# The other users run copies of the tools: the build tree may sit in a
# directory only root can enter (a CI clone in a private temp dir).
as_nobody() { (cd "$H_TMP/nobody" && setpriv --reuid=65534 --regid=65534 --clear-groups env TMPDIR="$H_TMP/nobody" "$@"); }
mkdir -m 0777 "$H_TMP/nobody"
chmod 0755 "$H_TMP"
tools=$H_TMP/tools
mkdir -p "$tools/bin" "$tools/lib"
cp "$CKPT_BIN/ckpt_command" "$CKPT_BIN/ckpt_launch" "$CKPT_BIN/ckpt_coordinator" "$tools/bin/"
cp "$CKPT_BIN/../lib/libckpt.so" "$tools/lib/"
chmod -R a+rX "$tools"
for action in --status --checkpoint --kill --quit; do
  expect_fail 1 "no secret to prove" "uid 65534 ckpt_command $action on root's computation" \
    as_nobody env -u CKPT_SECRET_FILE "$tools/bin/ckpt_command" --coord-port "$H_PORT" "$action"
done
expect_fail 2 "belongs to uid 0, not to you\|no secret to prove it is ours" "uid 65534 joining root's computation" \
  as_nobody env -u CKPT_SECRET_FILE "$tools/bin/ckpt_launch" --join --coord-port "$H_PORT" /bin/true
[ "$(h_process_count)" -eq 1 ] || h_fail "another user changed root's computation"

# A user's coordinator: a third user is refused even with a copy of the
# secret; root's ckpt_launch does not join it.
mkdir -m 0755 "$H_TMP/user"
chown 65534:65534 "$H_TMP/user"
new_secret "$H_TMP/user/secret"
chown 65534:65534 "$H_TMP/user/secret"
user_port=$(h_free_port)
# exec all the way down: $! must be the coordinator itself, for the kill at exit.
(cd "$H_TMP/nobody" && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$tools/bin/ckpt_coordinator" \
  --port "$user_port" --port-file "$H_TMP/user/port" --secret-file "$H_TMP/user/secret") >"$H_TMP/user.log" 2>&1 &
user_coord=$!
h_on_exit "kill $user_coord"
h_wait_port_file "$H_TMP/user/port" "$user_coord" "$H_TMP/user.log" >/dev/null || exit 1
cp "$H_TMP/user/secret" "$H_TMP/third.secret"
chown 65533:65533 "$H_TMP/third.secret"
got=$(cd "$H_TMP" && setpriv --reuid=65533 --regid=65533 --clear-groups bash -c "$(declare -f raw_peer); raw_peer $user_port wrong")
[[ $got == "refused: this coordinator belongs to uid 65534, not to uid 65533"* ]] || h_fail "uid 65533 got: $got"
expect_fail 1 "belongs to uid 65534, not to you" "uid 65533 ckpt_command with the secret" \
  env -C "$H_TMP" setpriv --reuid=65533 --regid=65533 --clear-groups "$tools/bin/ckpt_command" --coord-port "$user_port" \
  --secret-file "$H_TMP/third.secret" --status
cp "$H_TMP/user/secret" "$H_TMP/root.secret"
chown 0:0 "$H_TMP/root.secret"
expect_fail 2 "belongs to uid 65534, not to you" "root's ckpt_launch joining uid 65534's coordinator" \
  "$tools/bin/ckpt_launch" --join --coord-port "$user_port" --secret-file "$H_TMP/root.secret" /bin/true

# From another network namespace, over a veth pair: the secret is what counts.
if command -v ip >/dev/null && ip netns add "ckpt-auth-$$" 2>/dev/null; then
  ns=ckpt-auth-$$
  h_on_exit "ip netns delete $ns"
  net=$((RANDOM % 200 + 20))
  ip link add "ckv$$a" type veth peer name "ckv$$b"
  ip link set "ckv$$b" netns "$ns"
  ip addr add "10.77.$net.1/24" dev "ckv$$a"
  ip link set "ckv$$a" up
  ip netns exec "$ns" ip addr add "10.77.$net.2/24" dev "ckv$$b"
  ip netns exec "$ns" ip link set "ckv$$b" up
  ip netns exec "$ns" ip link set lo up
  wide_port=$(h_free_port)
  "$CKPT_BIN/ckpt_coordinator" --listen 0.0.0.0 --port "$wide_port" --port-file "$H_TMP/wide.port" \
    >"$H_TMP/wide.log" 2>&1 &
  wide=$!
  h_on_exit "kill $wide"
  h_wait_port_file "$H_TMP/wide.port" "$wide" "$H_TMP/wide.log" >/dev/null || exit 1
  ip netns exec "$ns" "$CKPT_BIN/ckpt_command" --coord-host "10.77.$net.1" --coord-port "$wide_port" --status \
    >"$H_TMP/ns.out" 2>&1 || h_fail "the right secret from another namespace was refused: $(cat "$H_TMP/ns.out")"
  expect_fail 1 "does not know this computation's secret" "a wrong secret from another namespace" \
    ip netns exec "$ns" env CKPT_SECRET_FILE="$H_TMP/wrong.secret" "$CKPT_BIN/ckpt_command" \
    --coord-host "10.77.$net.1" --coord-port "$wide_port" --status
else
  h_log "no network namespaces here (ip netns add failed): skipped the remote check"
fi

h_wait_app_exit
echo PASS
