#!/bin/bash
# multihost.sh STEPS: a computation on three hosts (issue 9). The hosts are
# network namespaces on this machine, each with one private address on a
# bridge in the root namespace, where the coordinator listens; they share
# the hostname, so each process's host is the name ckpt gives it
# (--host-name, set by the remote-shell rewrite). The root process, started
# on the first host, starts a process tree on each other host through the
# remote shell ("ssh HOST COMMAND...", which libckpt rewrites to join the
# computation there; here ssh is a stand-in that runs COMMAND with sh in the
# namespace HOST, as ssh does on a host) and one of its own. Checkpointed,
# killed and restarted three times: (a) on the same hosts, through the same
# ssh, (b) each host's processes in another host's namespace (--host), (c)
# all on one host (--hostfile), both through --rsh 'ip netns exec'; in
# between, a host map without one of the hosts, a host that cannot be
# reached and a host whose ckpt_restart fails each fail with one line. The
# outputs equal an uninterrupted run's. Two processes on the second and
# third hosts stream records both ways over TCP with their buffers full, so
# every checkpoint drains a connection between hosts and every restart makes
# it again between the namespaces the hosts' processes now run in.
# Root only.
. "$(dirname "$0")/harness.sh"
steps=${1:-400}
# Records each way over the TCP connection between the second and third
# hosts: enough to stream through every checkpoint.
records=${2:-120000}

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: network namespaces need root"
  exit 77
fi
command -v ip >/dev/null || { echo "SKIP: no ip command (iproute2)"; exit 77; }
h_init

# Three hosts: namespaces with an address each on one bridge.
net="10.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))"
bridge=ckmb$$
hosts=(ckmh-$$-1 ckmh-$$-2 ckmh-$$-3)
ip netns add "${hosts[0]}" 2>"$H_TMP/netns.err" || { echo "SKIP: ip netns add failed: $(cat "$H_TMP/netns.err")"; exit 77; }
# Whatever runs in a namespace dies with it, even when the test fails.
h_on_exit "for ns in ${hosts[*]}; do ip netns pids \$ns | xargs -r kill -KILL; ip netns delete \$ns; done"
h_on_exit "ip link delete $bridge"
# skip WHAT: this machine cannot make the network (a container without the
# bridge or veth drivers, say).
skip() {
  echo "SKIP: $1"
  exit 77
}
ip link add "$bridge" type bridge 2>"$H_TMP/netns.err" || skip "cannot make a bridge: $(cat "$H_TMP/netns.err")"
ip addr add "$net.254/24" dev "$bridge"
ip link set "$bridge" up
for i in 1 2 3; do
  ns=${hosts[$((i - 1))]}
  [ "$i" -eq 1 ] || ip netns add "$ns" || h_fail "ip netns add $ns failed"
  ip link add "ckm$$v$i" type veth peer name "ckm$$p$i" 2>"$H_TMP/netns.err" ||
    skip "cannot make a veth pair: $(cat "$H_TMP/netns.err")"
  ip link set "ckm$$v$i" master "$bridge"
  ip link set "ckm$$v$i" up
  ip link set "ckm$$p$i" netns "$ns"
  ip netns exec "$ns" ip addr add "$net.$i/24" dev "ckm$$p$i"
  ip netns exec "$ns" ip link set "ckm$$p$i" up
  ip netns exec "$ns" ip link set lo up
done
coord=$net.254
h_log "hosts ${hosts[*]} on $net.0/24"

# ssh [OPTION...] HOST COMMAND...: runs COMMAND, its words joined and read by
# sh, in the network namespace HOST.
mkdir "$H_TMP/fakebin"
cat >"$H_TMP/fakebin/ssh" <<'SH'
#!/bin/sh
while [ "${1#-}" != "$1" ]; do shift; done
host=$1
shift
exec ip netns exec "$host" /bin/sh -c "$*"
SH
chmod +x "$H_TMP/fakebin/ssh"
export PATH=$H_TMP/fakebin:$PATH

ref=$(h_workdir reference)
ip netns exec "${hosts[0]}" bash "$H_PROGRAMS/multihost_root.sh" "$ref" "$steps" "$records" "$net.2" "${hosts[1]}" "${hosts[2]}" \
  </dev/null >"$H_TMP/reference.out" 2>"$H_TMP/reference.err" || h_fail "the uninterrupted run failed: $(cat "$H_TMP/reference.err")"
h_log "reference run done"

h_start_coordinator --listen 0.0.0.0
for ns in "${hosts[@]}"; do
  ip netns exec "$ns" "$CKPT_BIN/ckpt_command" --coord-host "$coord" --coord-port "$H_PORT" --status >/dev/null 2>&1 ||
    h_fail "host $ns cannot reach the coordinator at $coord"
done
run=$(h_workdir run)
ip netns exec "${hosts[0]}" "$CKPT_BIN/ckpt_launch" --join --coord-host "$coord" --coord-port "$H_PORT" \
  --host-name "${hosts[0]}" --ckptdir "$H_CKPTDIR" \
  bash "$H_PROGRAMS/multihost_root.sh" "$run" "$steps" "$records" "$net.2" "${hosts[1]}" "${hosts[2]}" \
  </dev/null >"$H_TMP/app.out" 2>"$H_TMP/app.err" &
H_APP_PID=$!
h_log "launched on ${hosts[0]} as pid $H_APP_PID"

outputs=(first "${hosts[1]}" "${hosts[2]}")
# wait_steps N: every host's counter printed step N.
wait_steps() {
  local f
  for f in "${outputs[@]}"; do
    local deadline=$((SECONDS + H_WAIT))
    until [ -f "$run/$f.out" ] && [ "$(h_max_step "$run/$f.out")" -ge "$1" ]; do
      h_gone "$H_APP_PID" && h_fail "the computation ended before $f printed step $1"
      [ "$SECONDS" -lt "$deadline" ] || h_fail "$f printed no step $1 within $H_WAIT s"
      sleep 0.05
    done
  done
}

# expect_hosts "HOST=COUNT ...": the coordinator lists that many processes on
# each host, and each listed process runs in the namespace of its host.
expect_hosts() {
  local list
  list=$(h_list_json) || h_fail "ckpt_command --list failed"
  python3 - "$list" "$1" <<'PY' || h_fail "processes are not where they should be: $list"
import collections, json, subprocess, sys
procs = json.loads(sys.argv[1])["processes"]
want = dict(item.split("=") for item in sys.argv[2].split())
got = collections.Counter(p["host"] for p in procs)
if got != collections.Counter({h: int(n) for h, n in want.items()}):
    sys.exit("per host: %s, want %s" % (dict(got), want))
for p in procs:
    ns = subprocess.run(["ip", "netns", "identify", str(p["real_pid"])], capture_output=True, text=True).stdout.strip()
    if ns != p["host"]:
        sys.exit("process %s (%s) says it is on %s but runs in namespace %r" % (p["pid"], p["program"], p["host"], ns))
PY
  h_log "processes per host: $1"
}

# restart_ok ARGS...: the restart script with ARGS, from the root namespace.
restart_ok() {
  touch "$H_TMP/restart.out"
  h_restart "$H_TMP/restart.out" --coord-host "$coord" "$@"
}

# restart_fails PATTERN ARGS...: the restart script with ARGS exits 1, its
# last line on stderr (ckpt_restart's) matching PATTERN; nothing of the
# computation is left running.
restart_fails() {
  local pattern=$1 status=0
  shift
  "$H_CKPTDIR/ckpt_restart_script.sh" --coord-host "$coord" --rsh "ip netns exec" "$@" \
    </dev/null >"$H_TMP/failed.out" 2>"$H_TMP/failed.err" || status=$?
  [ "$status" -eq 1 ] && tail -n 1 "$H_TMP/failed.err" | grep -q "^ckpt_restart: .*$pattern" ||
    h_fail "restart with $* gave status $status (want 1), stderr: $(cat "$H_TMP/failed.err")"
  h_log "refused: $(tail -n 1 "$H_TMP/failed.err")"
  local deadline=$((SECONDS + H_WAIT))
  until [ "$(h_process_count)" -eq 0 ]; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "processes of the failed restart are still listed"
    sleep 0.05
  done
}

h_wait_procs 12
expect_hosts "${hosts[0]}=4 ${hosts[1]}=4 ${hosts[2]}=4"
wait_steps 20
h_checkpoint
grep -q "^  '${hosts[1]}:$H_CKPTDIR/" "$H_CKPTDIR/ckpt_restart_script.sh" ||
  h_fail "the restart script does not name the hosts: $(cat "$H_CKPTDIR/ckpt_restart_script.sh")"
h_kill_app

# (a) The same hosts, through ssh.
restart_ok
h_wait_procs 12
expect_hosts "${hosts[0]}=4 ${hosts[1]}=4 ${hosts[2]}=4"
wait_steps 60
h_checkpoint
h_kill_app

restart_fails "host ${hosts[2]} is not in the host map" --host "${hosts[0]}=${hosts[1]}" --host "${hosts[1]}=${hosts[2]}"
restart_fails "the restart of the processes of host ${hosts[0]} on ckmh-$$-gone (ip netns exec ckmh-$$-gone ckpt_restart ...) exited with status [0-9]* before the computation ran" \
  --host "${hosts[0]}=ckmh-$$-gone" --host "${hosts[1]}=${hosts[1]}" --host "${hosts[2]}=${hosts[2]}"

# A host whose ckpt_restart fails (one of its images is gone).
image=$(grep -o "'${hosts[1]}:[^']*'" "$H_CKPTDIR/ckpt_restart_script.sh" | head -n 1 | tr -d "'")
image=${image#*:}
mv "$image" "$image.away"
restart_fails "the restart of the processes of host ${hosts[1]} on ${hosts[1]} (ip netns exec ${hosts[1]} ckpt_restart ...) exited with status 1 before the computation ran" \
  --rsh "ip netns exec"
grep -q "^ckpt_restart: .*$image" "$H_TMP/failed.err" || h_fail "the host's ckpt_restart did not say why: $(cat "$H_TMP/failed.err")"
mv "$image.away" "$image"

# (b) Each host's processes in another host's namespace.
restart_ok --rsh "ip netns exec" --host "${hosts[0]}=${hosts[1]}" --host "${hosts[1]}=${hosts[2]}" --host "${hosts[2]}=${hosts[0]}"
h_wait_procs 12
expect_hosts "${hosts[1]}=4 ${hosts[2]}=4 ${hosts[0]}=4"
wait_steps 100
h_checkpoint
h_kill_app

# (c) All on one host.
printf '# every host to the first\n%s %s\n%s=%s\n%s %s\n' "${hosts[0]}" "${hosts[0]}" "${hosts[1]}" "${hosts[0]}" \
  "${hosts[2]}" "${hosts[0]}" >"$H_TMP/hostfile"
restart_ok --rsh "ip netns exec" --hostfile "$H_TMP/hostfile"
# The two ends of the TCP stream may have finished their records before this
# last checkpoint (how soon depends on the machine): as many processes as
# the checkpoint has images.
procs=$(grep -o "\.ckpt'" "$H_CKPTDIR/ckpt_restart_script.sh" | wc -l)
[ "$procs" -eq 12 ] || [ "$procs" -eq 10 ] || h_fail "the last checkpoint has $procs images, not 10 or 12"
h_wait_procs "$procs"
expect_hosts "${hosts[0]}=$procs"

h_wait_exit "$H_APP_PID" $((H_WAIT * 2)) || h_fail "the restarted computation did not finish"
[ "$H_STATUS" -eq 0 ] || h_fail "the restart script exited with $H_STATUS: $(cat "$H_TMP/restart.err")"
# The restart script ends when each host's ckpt_restart has seen its root
# end: the process of lowest pid among those whose parent is not in the
# images. The processes the remote shell started are such roots, one tree
# each, and only one per host is waited for: in the uninterrupted run the
# root waited for them through ssh, which a restart does not bring back. So
# the TCP stream's ends may still be running (say the server, behind a bash
# of the same host with a lower pid, with its last records still to read):
# the outputs are complete only once the coordinator lists no process.
deadline=$((SECONDS + H_WAIT * 2))
until [ "$(h_process_count)" -eq 0 ]; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "processes of the restarted computation still run: $(h_list_json)"
  sleep 0.1
done
for f in "${outputs[@]}" root server client; do
  cmp -s "$ref/$f.out" "$run/$f.out" || h_fail "$f.out differs from the uninterrupted run's: $(diff "$ref/$f.out" "$run/$f.out" | head -n 5)"
done
h_log "outputs equal the uninterrupted run's ($(wc -l <"$run/first.out") lines each)"
echo PASS
