#!/bin/bash
# pg_pgbench.sh [CYCLES=2]: a real database under checkpoint, kill and restart
# (issue 10). PostgreSQL from Debian's packages runs under ckpt_launch on a
# Unix-socket directory of the test: the postmaster and its children with
# their shared memory (anonymous, POSIX and System V), semaphores, pipes,
# latches (signalfd, epoll) and sockets. pgbench drives it from outside the
# computation. Each cycle: pgbench under load, `ckpt_command --checkpoint
# --then-kill` (the server never runs after its snapshot, so its files match
# its images), restart, then
#   - the server accepts new connections;
#   - every transaction pgbench saw committed is there: pgbench_history has
#     at least as many rows as pgbench reported (one row per transaction),
#     and exactly as many more after a run that is not interrupted;
#   - the TPC-B invariants hold: the sums of account, teller and branch
#     balances equal the sum of the history's deltas;
# and at the end pg_amcheck finds no damage in tables or indexes.
#
# PostgreSQL refuses to run as root: as root the test runs itself as uid
# 65534 when that user can reach the build tree, else it is skipped (the
# unprivileged pass of scripts/test.sh runs it).
set -u
cycles=${1:-2}
# Descriptors the test runner left open (ctest's log) would be files the
# server holds at checkpoint time, and uid 65534 could not reopen them.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/postgres" ] || [ ! -x "$pgbin/pgbench" ]; then
  echo "SKIP: PostgreSQL is not installed (scripts/common.sh installs postgresql)"
  exit 77
fi
if [ "$(id -u)" -eq 0 ]; then
  self=$(readlink -f "$0")
  if setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$self" -a \
      -x "$(dirname "$self")/../../bin/ckpt_launch" 2>/dev/null; then
    exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp TMPDIR=/tmp bash "$self" "$@"
  fi
  echo "SKIP: PostgreSQL does not run as root, and uid 65534 cannot reach this build tree"
  exit 77
fi
. "$(dirname "$0")/harness.sh"

h_init
h_start_coordinator
data=$H_TMP/data sock=$H_TMP/sock
mkdir -p "$sock"
# A killed server leaves its System V segment (postmaster.pid's line 7 holds
# its key; a clean shutdown would have removed it) and its dynamic shared
# memory segments (/dev/shm/PostgreSQL.N): those this test's servers made
# go too.
shm_before=$(cd /dev/shm && ls -d PostgreSQL.* 2>/dev/null)
remove_segments() {
  local key f
  key=$(sed -n 7p "$data/postmaster.pid" 2>/dev/null | awk '{ print $1 }')
  [ -n "$key" ] && [ "$key" != 0 ] && ipcrm -M "$key" 2>/dev/null
  for f in /dev/shm/PostgreSQL.*; do
    [ -O "$f" ] && ! grep -qxF "${f#/dev/shm/}" <<<"$shm_before" && rm -f "$f"
  done
  return 0
}
h_on_exit remove_segments
"$pgbin/initdb" -D "$data" -A trust -U ckpt --no-sync >"$H_TMP/initdb.log" 2>&1 ||
  h_fail "initdb failed: $(tail -3 "$H_TMP/initdb.log")"
psql() { timeout 30 "$pgbin/psql" -h "$sock" -U ckpt -X -At -v ON_ERROR_STOP=1 "$@" postgres; }
pgbench() { timeout 60 "$pgbin/pgbench" -h "$sock" -U ckpt "$@" postgres; }

wait_ready() {
  local deadline=$((SECONDS + H_WAIT))
  until "$pgbin/pg_isready" -q -h "$sock" -U ckpt -d postgres; do
    h_gone "$H_APP_PID" && h_fail "the server exited: $(tail -5 "$H_TMP/server.log" "$H_TMP/restart.err" 2>/dev/null)"
    [ "$SECONDS" -lt "$deadline" ] || h_fail "the server accepts no connection within ${H_WAIT} s"
    sleep 0.1
  done
}

# "ROWS SUM_DELTA": the history, after checking the balances against it.
check_consistent() {
  local row
  row=$(psql -c "select count(*), coalesce(sum(delta), 0),
                        (select sum(abalance) from pgbench_accounts),
                        (select sum(tbalance) from pgbench_tellers),
                        (select sum(bbalance) from pgbench_branches) from pgbench_history") ||
    h_fail "the consistency query failed after $1"
  IFS='|' read -r rows delta accounts tellers branches <<<"$row"
  [ "$accounts" = "$delta" ] && [ "$tellers" = "$delta" ] && [ "$branches" = "$delta" ] ||
    h_fail "after $1 the balances do not match the history: history $rows rows, sum of deltas $delta, accounts $accounts, tellers $tellers, branches $branches"
  echo "$rows"
}

processed() { awk '/number of transactions actually processed:/ { print $6 }' "$1"; }

# The server under ckpt, with small shared buffers so images stay small.
h_launch "$H_TMP/server.log" -- "$pgbin/postgres" -D "$data" -k "$sock" -c listen_addresses= \
  -c shared_buffers=16MB -c max_connections=20
wait_ready
pgbench -i -s 1 -q >"$H_TMP/pgbench_init.log" 2>&1 || h_fail "pgbench -i failed: $(tail -3 "$H_TMP/pgbench_init.log")"
rows=$(check_consistent "pgbench -i") || exit 1

for ((cycle = 1; cycle <= cycles; cycle++)); do
  # Under load: the checkpoint ends pgbench's connections (they are outside
  # the computation), so its run is cut short; what it reports committed
  # must be there.
  log=$H_TMP/pgbench_$cycle.log
  pgbench -n -c 4 -j 2 -T 30 >"$log" 2>&1 &
  bench=$!
  sleep 2
  h_command --checkpoint --then-kill >>"$H_TMP/command.log" 2>&1 ||
    h_fail "ckpt_command --checkpoint --then-kill failed: $(tail -3 "$H_TMP/command.log")"
  h_wait_exit "$H_APP_PID" || h_fail "the server still runs after --then-kill"
  wait "$bench"
  seen=$(processed "$log")
  [ -n "$seen" ] && [ "$seen" -gt 0 ] || h_fail "pgbench reported no committed transaction before the checkpoint: $(tail -5 "$log")"
  h_log "cycle $cycle: checkpointed under load; pgbench saw $seen transactions committed"
  h_restart "$H_TMP/server.log"
  wait_ready
  now=$(check_consistent "restart $cycle") || exit 1
  [ "$now" -ge $((rows + seen)) ] ||
    h_fail "after restart $cycle the history has $now rows; before the run it had $rows and pgbench saw $seen more committed"
  # An uninterrupted run on the restarted server: exactly its transactions more.
  pgbench -n -c 4 -j 2 -T 2 >"$log.after" 2>&1 || h_fail "pgbench after restart $cycle failed: $(tail -5 "$log.after")"
  more=$(processed "$log.after")
  rows=$(check_consistent "the run after restart $cycle") || exit 1
  [ "$rows" -eq $((now + more)) ] ||
    h_fail "after restart $cycle pgbench committed $more transactions but the history grew from $now to $rows rows"
  h_log "cycle $cycle: restarted, consistent ($now rows), then $more more transactions"
done

"$pgbin/pg_amcheck" -h "$sock" -U ckpt --install-missing --heapallindexed postgres >"$H_TMP/amcheck.log" 2>&1 ||
  h_fail "pg_amcheck found damage: $(head -20 "$H_TMP/amcheck.log")"
h_log "pg_amcheck: no damage"
echo "PASS"
