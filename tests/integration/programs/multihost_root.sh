#!/bin/bash
# multihost_root.sh OUT STEPS RECORDS SERVER_ADDR HOST...: the root of the
# multi-host test (multihost.sh), run on the first host: starts a share on
# each HOST through the remote shell ("ssh HOST ..."), which ckpt rewrites so
# that it joins the computation there, runs its own share, then waits. The
# first two HOSTs also get the two ends of a TCP connection that streams
# RECORDS records each way (it_socket_stream: a server on the first, at
# SERVER_ADDR, a client on the second), into OUT/server.out and OUT/client.out.
# The two ends start once every HOST's share has begun its output, so that
# they have higher pids than the shares of their hosts: after a restart
# neither is the process its host's ckpt_restart waits for, and the test
# must wait for them itself.
out=$1 steps=$2 records=$3 server_addr=$4
shift 4
dir=$(dirname "$0")
for host in "$@"; do
  ssh "$host" bash "$dir/multihost_host.sh" "$out" "$host" "$steps" &
done
for host in "$@"; do
  until [ -e "$out/$host.out" ]; do sleep 0.05; done
done
ssh "$1" bash "$dir/multihost_socket.sh" "$out" server serve 5000 "$records" &
ssh "$2" bash "$dir/multihost_socket.sh" "$out" client connect "$server_addr" 5000 "$records" &
bash "$dir/multihost_host.sh" "$out" first "$steps"
wait
echo "root done" >"$out/root.out"
