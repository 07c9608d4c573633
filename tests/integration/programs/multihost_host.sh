#!/bin/bash
# multihost_host.sh OUT NAME STEPS: one host's share of the multi-host test
# (multihost.sh), a tree of three processes: this shell, the counter, and a
# subshell that reads the counter through a pipe into OUT/NAME.out.
out=$1 name=$2 steps=$3
"$(dirname "$0")/it_multihost_counter" "$name" "$steps" | while read -r line; do
  echo "$line"
done >"$out/$name.out"
