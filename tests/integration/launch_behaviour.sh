#!/bin/bash
# launch_behaviour.sh: ckpt_launch as a user sees it.
# PROG replaces ckpt_launch (same pid, its exit status), the environment
# contract with libckpt.so, usage errors (2), no coordinator for --join (3)
# and missing programs (127) as one-line messages, the relocatable tree
# (libckpt.so found from the executable), and the coordinator modes: --join
# needs a running coordinator, --new-coordinator --coord-port 0 starts one on a free port,
# and the default mode starts one without making the program wait for it.
. "$(dirname "$0")/harness.sh"
h_init
h_start_coordinator
launch=$CKPT_BIN/ckpt_launch
lib=$(cd "$CKPT_BIN/../lib" && pwd)/libckpt.so

# PROG keeps ckpt_launch's pid and exit status.
"$launch" --join sh -c 'echo $$; exit 42' >"$H_TMP/pid.out" 2>"$H_TMP/app.err" &
pid=$!
h_wait_exit "$pid" || h_fail "ckpt_launch sh -c 'exit 42' did not finish"
h_check "exit status is the program's (42)" [ "$H_STATUS" -eq 42 ]
h_check "the program runs with ckpt_launch's pid" [ "$(cat "$H_TMP/pid.out")" = "$pid" ]

# The environment libckpt.so reads; --ckptdir made absolute and created.
mkdir "$H_TMP/cwd"
(cd "$H_TMP/cwd" && LD_PRELOAD=libother.so "$launch" --join --ckptdir rel/dir/ --interval 7 --no-compress --accept-loss \
  sh -c 'printf "%s\n" "$LD_PRELOAD" "$CKPT_COORD_HOST" "$CKPT_COORD_PORT" "$CKPT_DIR" "$CKPT_INTERVAL" "$CKPT_COMPRESS" \
    "$CKPT_ACCEPT_LOSS"' >"$H_TMP/env.out" 2>"$H_TMP/app.err" </dev/null) 2>/dev/null
printf '%s\n' "$lib:libother.so" localhost "$H_PORT" "$H_TMP/cwd/rel/dir" 7 0 1 >"$H_TMP/env.expected"
h_check "environment contract (LD_PRELOAD CKPT_COORD_HOST CKPT_COORD_PORT CKPT_DIR CKPT_INTERVAL CKPT_COMPRESS CKPT_ACCEPT_LOSS)" \
  diff -u "$H_TMP/env.expected" "$H_TMP/env.out"
h_check "--ckptdir is created" [ -d "$H_TMP/cwd/rel/dir" ]
CKPT_DIR=$H_TMP/cwd CKPT_NO_COMPRESS=0 "$launch" --join sh -c 'echo "$CKPT_DIR $CKPT_COMPRESS"' \
  >"$H_TMP/env2.out" 2>/dev/null </dev/null
h_check "environment twins are read (CKPT_DIR, CKPT_NO_COMPRESS=0)" [ "$(cat "$H_TMP/env2.out")" = "$H_TMP/cwd 1" ]
CKPT_ACCEPT_LOSS=1 "$launch" --join sh -c 'echo "$CKPT_ACCEPT_LOSS"' >"$H_TMP/env3.out" 2>/dev/null </dev/null
h_check "CKPT_ACCEPT_LOSS=1 is passed on" [ "$(cat "$H_TMP/env3.out")" = 1 ]
"$launch" --join sh -c 'echo "$CKPT_ACCEPT_LOSS"' >"$H_TMP/env4.out" 2>/dev/null </dev/null
h_check "without --accept-loss PROG gets CKPT_ACCEPT_LOSS=0" [ "$(cat "$H_TMP/env4.out")" = 0 ]

h_check_error "missing program" 127 '^ckpt_launch: ' "$launch" --join
h_check_error "program not found" 127 'ckpt-no-such-program' "$launch" --join ckpt-no-such-program
h_check_error "program not executable" 127 'not an executable' "$launch" --join "$H_TMP/env.out"
h_check_error "bad --interval" 2 "^ckpt_launch: --interval: 'abc' is not a number$" "$launch" --interval abc true
h_check_error "bad CKPT_COORD_PORT" 2 "^ckpt_launch: CKPT_COORD_PORT: '70000' is not a port number \\(1-65535\\)$" \
  env CKPT_COORD_PORT=70000 "$launch" true
h_check_error "--join with --new-coordinator" 2 'exclude' "$launch" --join --new-coordinator true
h_check_error "unknown option" 2 "^ckpt_launch: unknown option '--bogus' \\(try --help\\)$" "$launch" --bogus true
free=$(h_free_port)
h_check_error "--join without a coordinator" 3 "^ckpt_launch: no coordinator at localhost:$free: " \
  "$launch" --join --coord-port "$free" true

"$launch" --help >"$H_TMP/help.out" 2>&1
h_check "--help exits 0" [ $? -eq 0 ]
for word in --coord-host CKPT_COORD_HOST --coord-port CKPT_COORD_PORT --ckptdir CKPT_DIR --interval CKPT_INTERVAL \
  --no-compress CKPT_NO_COMPRESS --join CKPT_JOIN --new-coordinator CKPT_NEW_COORDINATOR --accept-loss \
  CKPT_ACCEPT_LOSS --version; do
  grep -q -- "$word" "$H_TMP/help.out" || { echo "FAIL --help does not mention $word" >&2; H_FAILURES=$((H_FAILURES + 1)); }
done
h_check "--version" grep -qE '^ckpt_launch [0-9]+\.[0-9]+' <("$launch" --version)

# The tree is relocatable: a copy of bin/ckpt_launch finds lib/ next to it.
mkdir -p "$H_TMP/tree/bin" "$H_TMP/tree/lib"
cp "$launch" "$H_TMP/tree/bin/"
h_check_error "copied tree without lib/libckpt.so" 1 "$H_TMP/tree/lib/libckpt.so" "$H_TMP/tree/bin/ckpt_launch" --join true
cp "$lib" "$H_TMP/tree/lib/"
"$H_TMP/tree/bin/ckpt_launch" --join sh -c 'echo "$LD_PRELOAD"' >"$H_TMP/tree.out" 2>/dev/null </dev/null
h_check "copied tree preloads its own libckpt.so" [ "$(cat "$H_TMP/tree.out")" = "$H_TMP/tree/lib/libckpt.so" ]

# --new-coordinator --coord-port 0: the program learns the port that was
# picked, and the coordinator answers there while the program runs (it may
# leave with its last process).
"$launch" --new-coordinator --coord-port 0 --ckptdir "$H_TMP" sh -c 'echo "$CKPT_COORD_PORT"
  env -u LD_PRELOAD "$0" --coord-host localhost --coord-port "$CKPT_COORD_PORT" --status >/dev/null && echo answers' \
  "$CKPT_BIN/ckpt_command" >"$H_TMP/new.out" 2>"$H_TMP/new.err" </dev/null
new_port=$(head -n 1 "$H_TMP/new.out")
[ -n "$new_port" ] && h_on_exit "'$CKPT_BIN/ckpt_command' --coord-host localhost --coord-port $new_port --quit"
h_check "--new-coordinator --coord-port 0 picks a port" [ "${new_port:-0}" -gt 0 ]
h_check "the new coordinator answers on that port" [ "$(sed -n 2p "$H_TMP/new.out")" = answers ]

# Default mode with nobody on the port: starts a coordinator in the background
# and does not make the program wait for it.
auto_port=$(h_free_port)
h_on_exit "'$CKPT_BIN/ckpt_command' --coord-host localhost --coord-port $auto_port --quit"
start=$EPOCHREALTIME
"$launch" --coord-port "$auto_port" --ckptdir "$H_TMP" true 2>"$H_TMP/auto.err" </dev/null
status=$?
elapsed_ms=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
h_check "auto mode runs the program (exit 0)" [ "$status" -eq 0 ]
h_check "auto mode does not wait for the coordinator (${elapsed_ms} ms < 1000 ms)" [ "$elapsed_ms" -lt 1000 ]

# A coordinator started in default mode may leave with its last process, so
# keep one running while looking for it. A port that another process took
# between h_free_port and the coordinator's bind is the host's doing, not
# ours: the coordinator says so on the program's stderr, and we try another.
started=1
for attempt in 1 2 3; do
  auto_port=$(h_free_port)
  h_on_exit "'$CKPT_BIN/ckpt_command' --coord-host localhost --coord-port $auto_port --quit"
  "$launch" --coord-port "$auto_port" --ckptdir "$H_TMP" sleep 5 2>"$H_TMP/auto-sleep.err" </dev/null &
  H_EXTRA_PIDS+=($!)
  for _ in $(seq 80); do
    "$CKPT_BIN/ckpt_command" --coord-host localhost --coord-port "$auto_port" --status \
      >/dev/null 2>"$H_TMP/auto-status.err" && started=0 && break
    grep -q "Address already in use" "$H_TMP/auto-sleep.err" && break
    sleep 0.1
  done
  [ "$started" -eq 0 ] && break
  grep -q "Address already in use" "$H_TMP/auto-sleep.err" || break
  h_log "port $auto_port was taken before the coordinator bound it (attempt $attempt): $(head -n 1 "$H_TMP/auto-sleep.err")"
done
h_check "auto mode started a coordinator on port $auto_port" [ "$started" -eq 0 ]
if [ "$started" -ne 0 ]; then
  echo "  program's stderr: $(cat "$H_TMP/auto-sleep.err")"
  echo "  ckpt_command --status: $(cat "$H_TMP/auto-status.err")"
fi

# A coordinator that cannot start in default mode says why on the program's
# stderr, and the program still runs.
busy_port=$(h_free_port)
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1]))); print("bound", flush=True); time.sleep(10)' "$busy_port" >"$H_TMP/busy.out" &
H_EXTRA_PIDS+=($!)
for _ in $(seq 100); do [ -s "$H_TMP/busy.out" ] && break; sleep 0.05; done
"$launch" --coord-port "$busy_port" --ckptdir "$H_TMP" sh -c 'sleep 1; echo ran' >"$H_TMP/busy-run.out" 2>"$H_TMP/busy-run.err" </dev/null
h_check "auto mode with a taken port still runs the program" [ "$(cat "$H_TMP/busy-run.out")" = ran ]
h_check "auto mode with a taken port says why: $(head -n 1 "$H_TMP/busy-run.err")" \
  grep -q "ckpt_coordinator: cannot listen on port $busy_port: Address already in use" "$H_TMP/busy-run.err"

# libckpt.so loads nothing but the C library into every program (each more
# library made every exec slower), and a fatal start-up error still prints a
# libunwind backtrace: libunwind is opened then.
others=$(LC_ALL=C readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -vE '^(libc\.so|ld-linux)' | tr '\n' ' ')
h_check "libckpt.so needs no library but libc and the dynamic loader (others: ${others:-none})" [ -z "$others" ]
"$launch" --join env CKPT_SIGNAL=9 true >/dev/null 2>"$H_TMP/fatal.err" </dev/null
h_check "a fatal start-up error aborts the program" [ $? -eq 134 ]
h_check "it says why: $(head -n 1 "$H_TMP/fatal.err")" \
  grep -q '^ckpt: fatal: cannot install the suspend handler for signal 9$' "$H_TMP/fatal.err"
h_check "with a libunwind backtrace naming the failed step" grep -qE '^  #[0-9]+ 0x[0-9a-f]+ .*install_suspend_handler' \
  "$H_TMP/fatal.err"

[ "$H_FAILURES" -eq 0 ] || h_fail "$H_FAILURES launch check(s) failed"
echo PASS
