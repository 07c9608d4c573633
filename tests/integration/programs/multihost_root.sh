#!/bin/bash
# multihost_root.sh OUT STEPS RECORDS SERVER_ADDR HOST...: the root of the
# multi-host test (multihost.sh), run on the first host: starts a share on
# each HOST through the remote shell ("ssh HOST ..."), which ckpt rewrites so
# that it joins the computation there, runs its own share, then waits. The
# first two HOSTs also get the two ends of a TCP connection that streams
# RECORDS records each way (it_socket_stream: a server on the first, at
# SERVER_ADDR, a client on the second), into OUT/server.out and OUT/client.out.
out=$1 steps=$2 records=$3 server_addr=$4
shift 4
dir=$(dirname "$0")
ssh "$1" bash "$dir/multihost_socket.sh" "$out" server serve 5000 "$records" &
ssh "$2" bash "$dir/multihost_socket.sh" "$out" client connect "$server_addr" 5000 "$records" &
for host in "$@"; do
  ssh "$host" bash "$dir/multihost_host.sh" "$out" "$host" "$steps" &
done
bash "$dir/multihost_host.sh" "$out" first "$steps"
wait
echo "root done" >"$out/root.out"
