#!/bin/bash
# multihost_root.sh OUT STEPS HOST...: the root of the multi-host test
# (multihost.sh), run on the first host: starts a share on each HOST through
# the remote shell ("ssh HOST ..."), which ckpt rewrites so that it joins the
# computation there, runs its own share, then waits.
out=$1 steps=$2
shift 2
dir=$(dirname "$0")
for host in "$@"; do
  ssh "$host" bash "$dir/multihost_host.sh" "$out" "$host" "$steps" &
done
bash "$dir/multihost_host.sh" "$out" first "$steps"
wait
echo "root done" >"$out/root.out"
