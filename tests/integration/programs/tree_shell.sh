#!/bin/bash
# A shell job made of many processes: pipelines (seq | awk | sort), command
# substitutions, subshells, and a background job the script waits for.
#
# usage: tree_shell.sh WORKDIR [LINES=150]
#
# The middle stage of the main pipeline reads one line at a time and sleeps
# after each (an external sleep: one more process per line), printing
# "step N" to the script's stdout every 5 lines, so a checkpoint taken at
# "step N" lands while seq/awk have filled the pipe ahead of it, sort is
# collecting its input behind it, and the background job is still writing.
# Everything printed is deterministic.
set -eu -o pipefail
work=$1
lines=${2:-150}
exec 3>&1  # the progress lines of the pipeline stage go to the script's stdout

count=$(seq 1 1000 | wc -l)
echo "command substitution: $count lines"
sum=$( (seq 1 100; seq 101 200) | awk '{ s += $1 } END { print s }')
echo "subshell in a substitution: sum $sum"

# The background job: squares, slowly, into a file of its own.
(
  for i in $(seq 1 40); do
    echo "square $i $((i * i))"
    sleep 0.05
  done
) >"$work/background.out" &
background=$!

slow_stage() {
  local n=0 line
  while IFS= read -r line; do
    n=$((n + 1))
    sleep 0.01
    if [ $((n % 5)) -eq 0 ]; then
      echo "step $((n / 5)) pipeline stage read $n lines" >&3
    fi
    echo "$line"
  done
}

digest=$(seq 1 "$lines" | awk '{ print ($1 * 7919) % 10007 }' | slow_stage | sort -n | md5sum | cut -c1-32)
echo "pipeline digest $digest"

echo "residues:"
seq 1 60 | awk '{ print $1 % 7 }' | sort | uniq -c | awk '{ print "  " $2 ": " $1 }'

status=0
(
  cd "$work"
  [ -d . ] && exit 3
) || status=$?
echo "subshell exit status $status"

wait "$background"
echo "background job exit status $?"
echo "background output: $(wc -l <"$work/background.out") lines, sum of squares $(awk '{ s += $3 } END { print s }' "$work/background.out")"
echo "done"
