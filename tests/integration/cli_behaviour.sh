#!/bin/bash
# cli_behaviour.sh: the command line the five tools share, as a user sees it.
# Every tool has --version and --help (ending with the exit statuses), says
# every error in one line "TOOL: MESSAGE" with the same wording for the same
# mistake (an unknown option, a bad CKPT_COORD_PORT), and exits 2 for usage
# errors and 3 when no coordinator is reachable. DMTCP's spellings work
# against a real coordinator: a program launched with `ckpt_launch -j -p PORT
# -h 127.0.0.1`, driven with `ckpt_command -s -l -i N -bc -k`, restarted, and
# its output compared with an uninterrupted run.
. "$(dirname "$0")/harness.sh"
h_init
tools=(ckpt_launch ckpt_restart ckpt_info ckpt_coordinator ckpt_command)
[ -x "$CKPT_BIN/ckpt_info" ] || h_fail "$CKPT_BIN/ckpt_info is missing (not built?)"
# No CKPT_* setting of the caller's may leak into the checks below.
unset CKPT_COORD_HOST CKPT_COORD_PORT CKPT_TIMEOUT CKPT_JOIN CKPT_NEW_COORDINATOR

# The arguments that make each tool valid apart from the one mistake tested.
declare -A valid=([ckpt_launch]=true [ckpt_restart]=x.ckpt [ckpt_info]=x.ckpt [ckpt_coordinator]=--exit-on-last
  [ckpt_command]=--status)
for tool in "${tools[@]}"; do
  bin=$CKPT_BIN/$tool
  status=0
  "$bin" --version >"$H_TMP/out" 2>"$H_TMP/err" </dev/null || status=$?
  h_check "$tool --version exits 0" [ "$status" -eq 0 ]
  h_check "$tool --version prints '$tool VERSION': $(head -c 80 "$H_TMP/out")" \
    grep -qxE "$tool [0-9]+\.[0-9]+\.[0-9]+" "$H_TMP/out"
  h_check "$tool --version prints one line, no error" [ "$(wc -l <"$H_TMP/out")" -eq 1 ] && [ ! -s "$H_TMP/err" ]

  status=0
  "$bin" --help >"$H_TMP/out" 2>"$H_TMP/err" </dev/null || status=$?
  h_check "$tool --help exits 0" [ "$status" -eq 0 ]
  h_check "$tool --help starts with its usage" grep -q "^Usage: $tool " <(head -n 1 "$H_TMP/out")
  for line in "Exit status:" "  0    success" "  1    " "  2    usage error"; do
    h_check "$tool --help documents '$line'" grep -qF -- "$line" "$H_TMP/out"
  done
  h_check "$tool --help documents --version" grep -qF -- "--version" "$H_TMP/out"

  # shellcheck disable=SC2086
  h_check_error "$tool: unknown option" 2 "^$tool: unknown option '--frob' \\(try --help\\)$" \
    "$bin" --frob ${valid[$tool]}
done

# One wording for one bad variable in every tool that reads it, and for the
# option it twins (the coordinator's is --port).
for tool in ckpt_launch ckpt_restart ckpt_coordinator ckpt_command; do
  option=--coord-port
  [ "$tool" = ckpt_coordinator ] && option=--port
  # shellcheck disable=SC2086
  h_check_error "$tool: bad CKPT_COORD_PORT" 2 "^$tool: CKPT_COORD_PORT: 'abc' is not a port number \\(1-65535\\)$" \
    env CKPT_COORD_PORT=abc timeout 20 "$CKPT_BIN/$tool" ${valid[$tool]}
  # shellcheck disable=SC2086
  h_check_error "$tool: bad $option" 2 "^$tool: $option: 'abc' is not a port number \\(1-65535\\)$" \
    timeout 20 "$CKPT_BIN/$tool" $option abc ${valid[$tool]}
done
h_check_error "ckpt_coordinator: bad CKPT_TIMEOUT" 2 "^ckpt_coordinator: CKPT_TIMEOUT: 'abc' is not a number$" \
  env CKPT_TIMEOUT=abc timeout 20 "$CKPT_BIN/ckpt_coordinator" --exit-on-last
h_check_error "ckpt_launch: bad CKPT_JOIN" 2 "^ckpt_launch: CKPT_JOIN: 'maybe' is not a boolean \\(use 1 or 0\\)$" \
  env CKPT_JOIN=maybe "$CKPT_BIN/ckpt_launch" true
h_check_error "ckpt_restart: bad CKPT_JOIN" 2 "^ckpt_restart: CKPT_JOIN: 'maybe' is not a boolean \\(use 1 or 0\\)$" \
  env CKPT_JOIN=maybe "$CKPT_BIN/ckpt_restart" x.ckpt
h_check_error "ckpt_info: no image" 2 "^ckpt_info: no image given \\(try --help\\)$" "$CKPT_BIN/ckpt_info"
h_check_error "ckpt_command: no action" 2 "^ckpt_command: no action given \\(try --help\\)$" "$CKPT_BIN/ckpt_command"
h_check_error "ckpt_command: two actions" 2 "^ckpt_command: --status and --list cannot be combined$" \
  "$CKPT_BIN/ckpt_command" -s -l

# Nobody listening: 3, distinct from usage errors.
free=$(h_free_port)
h_check_error "ckpt_command without a coordinator" 3 "^ckpt_command: no coordinator at localhost:$free: Connection refused$" \
  "$CKPT_BIN/ckpt_command" -p "$free" -s
h_check_error "ckpt_launch --join without a coordinator" 3 "^ckpt_launch: no coordinator at localhost:$free: " \
  "$CKPT_BIN/ckpt_launch" -j -p "$free" true

# DMTCP's spellings against a real coordinator, through a whole
# checkpoint/kill/restart cycle.
prog=("$H_PROGRAMS/it_heap_churn" 16 40 100)
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator
unset CKPT_COORD_HOST CKPT_COORD_PORT  # the spellings below must carry the address
dmtcp_command() { "$CKPT_BIN/ckpt_command" -h 127.0.0.1 -p "$H_PORT" "$@"; }
out=$H_TMP/actual.out
"$CKPT_BIN/ckpt_launch" -j -p "$H_PORT" -h 127.0.0.1 --ckptdir "$H_CKPTDIR" "${prog[@]}" >"$out" 2>"$H_TMP/app.err" </dev/null &
H_APP_PID=$!
: >"$out.bounds"
h_wait_step "$out" 3
h_check "ckpt_launch -j -p -h: PROG reached the coordinator (ckpt_command -l lists it)" \
  grep -q "it_heap_churn" <(dmtcp_command -l)
h_check "ckpt_command -s shows one process" grep -qE '^processes: +1$' <(dmtcp_command -s)
h_check "ckpt_command -i 5 sets the interval" grep -qx "checkpoint interval: 5 s" <(dmtcp_command -i 5)
h_check "ckpt_command -s shows it" grep -qE '^interval: +5 s$' <(dmtcp_command -s)
h_check "ckpt_command -i 0 turns it off" grep -qx "periodic checkpoints off" <(dmtcp_command -i 0)
dmtcp_command -bc >"$H_TMP/bc.out" 2>&1
h_check "ckpt_command -bc checkpoints: $(head -n 1 "$H_TMP/bc.out")" grep -q "^checkpoint 1 written: 1 image" "$H_TMP/bc.out"
h_check "ckpt_command -bc left a restart script" [ -x "$H_CKPTDIR/ckpt_restart_script.sh" ]
h_check "ckpt_command -k kills the computation" grep -qx "killed 1 process" <(dmtcp_command -k)
h_wait_exit "$H_APP_PID" || h_fail "pid $H_APP_PID still alive after ckpt_command -k"

images=("$H_CKPTDIR"/*.ckpt)
h_check_error "ckpt_restart -j without a coordinator" 3 "^ckpt_restart: no coordinator at localhost:$free: " \
  "$CKPT_BIN/ckpt_restart" -j -p "$free" "${images[@]}"
export CKPT_COORD_HOST=localhost CKPT_COORD_PORT=$H_PORT
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
h_check "ckpt_command -q stops the coordinator" grep -q "coordinator exiting" <(dmtcp_command -q)

[ "$H_FAILURES" -eq 0 ] || h_fail "$H_FAILURES command-line check(s) failed"
echo PASS
