# Shared machinery of the checkpoint/kill/restart integration tests.
# Source it from a test script, then call h_init first.
#
# Every test compares the final output of a checkpointed, killed and restarted
# run with an uninterrupted native run of the same program (compare_output.py).
# Programs print progress lines "step N ..." (N increasing from 1, one line
# per step, flushed) so the harness can tell how far a run has got, and print
# only deterministic results (checksums, counters), never timings or pids.
#
# Everything lives in a fresh temp dir with a private coordinator on a free
# port, so tests can run in parallel, as root or as any other user. An EXIT
# trap kills whatever the test started.

set -u
set -o pipefail

H_SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The build tree has bin/ (tools) and tests/integration/ (this harness);
# CKPT_BIN may point at an installed tree's bin/ instead.
CKPT_BIN=${CKPT_BIN:-$(cd "$H_SELF_DIR/../../bin" 2>/dev/null && pwd)}
H_PROGRAMS=$H_SELF_DIR/bin
H_WAIT=${CKPT_TEST_WAIT:-60}  # seconds any single wait may take before the test fails

H_TMP=
H_PORT=
H_COORD_PID=
H_APP_PID=
H_CKPTDIR=
H_MOUNTED=
H_EXTRA_PIDS=()
H_STATUS=
H_ON_EXIT=()

h_log() { echo "[$(date +%T.%N | cut -c1-12)] $*" >&2; }

# Prints everything that may explain a failure, then exits 1.
h_fail() {
  echo "FAIL: $*" >&2
  h_dump_logs
  exit 1
}

h_dump_logs() {
  [ -n "$H_TMP" ] && [ -d "$H_TMP" ] || return 0
  local f
  for f in "$H_TMP"/*.log "$H_TMP"/*.err "$H_TMP"/logs/*.log; do
    [ -s "$f" ] || continue
    echo "---- $(basename "$f") (last 40 lines) ----" >&2
    tail -n 40 "$f" >&2
  done
}

h_cleanup() {
  local rc=$?
  trap - EXIT
  # Ask the coordinator to kill the whole computation first: restarted
  # processes are not our children and may have children of their own.
  if [ -n "$H_COORD_PID" ] && kill -0 "$H_COORD_PID" 2>/dev/null; then
    timeout 5 "$CKPT_BIN/ckpt_command" --coord-host localhost --coord-port "$H_PORT" --kill >/dev/null 2>&1
  fi
  local cmd
  for cmd in "${H_ON_EXIT[@]}"; do
    eval "$cmd" >/dev/null 2>&1
  done
  local pid
  for pid in $H_APP_PID "${H_EXTRA_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "$H_COORD_PID" ]; then
    kill -TERM "$H_COORD_PID" 2>/dev/null
    h_wait_exit "$H_COORD_PID" 5 || kill -KILL "$H_COORD_PID" 2>/dev/null
  fi
  [ -n "$H_MOUNTED" ] && umount -l "$H_MOUNTED" 2>/dev/null
  if [ -n "$H_TMP" ]; then
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${CKPT_KEEP_TMP:-}" ]; then
      echo "keeping $H_TMP" >&2
    else
      chmod -R u+w "$H_TMP" 2>/dev/null
      rm -rf "$H_TMP"
    fi
  fi
  exit "$rc"
}

# h_on_exit COMMAND: runs COMMAND (a string for eval) during cleanup, before
# the tracked processes are killed.
h_on_exit() { H_ON_EXIT+=("$1"); }

# h_free_port: a TCP port nobody listens on right now.
h_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# h_init: checks the tools exist, makes the temp dir, installs the cleanup trap.
h_init() {
  local tool
  for tool in ckpt_launch ckpt_coordinator ckpt_command ckpt_restart; do
    [ -x "$CKPT_BIN/$tool" ] || { echo "FAIL: $CKPT_BIN/$tool is missing (not built?)" >&2; exit 1; }
  done
  [ -f "$CKPT_BIN/../lib/libckpt.so" ] || { echo "FAIL: $CKPT_BIN/../lib/libckpt.so is missing" >&2; exit 1; }
  H_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-it.XXXXXX") || exit 1
  H_CKPTDIR=$H_TMP/ckpt
  mkdir -p "$H_CKPTDIR" "$H_TMP/logs"
  # libckpt's per-process logs, dumped on failure.
  export CKPT_LOG_DIR=$H_TMP/logs
  # The computation's secret in the test's own directory: every tool reads it
  # there, and it goes with the directory (the default, in the private
  # directory, is tested by coordinator_auth.sh).
  export CKPT_SECRET_FILE=$H_TMP/coordinator.secret
  trap h_cleanup EXIT
  trap 'exit 130' INT TERM
  export PATH="$CKPT_BIN:$PATH"
  h_log "temp dir $H_TMP"
}

# Behaviour tests (launch_behaviour.sh, cli_behaviour.sh) run many small
# checks and report every failure before failing.
H_FAILURES=0

# h_check DESCRIPTION COMMAND...: COMMAND must succeed.
h_check() {
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what" >&2; H_FAILURES=$((H_FAILURES + 1)); fi
}

# h_check_error DESCRIPTION EXPECTED_STATUS REGEX COMMAND...: COMMAND exits
# with EXPECTED_STATUS and says exactly one line on stderr, matching REGEX.
h_check_error() {
  local what=$1 want=$2 regex=$3 status=0
  shift 3
  "$@" >/dev/null 2>"$H_TMP/err" </dev/null || status=$?
  if [ "$status" -eq "$want" ] && [ "$(grep -c . "$H_TMP/err")" -eq 1 ] && grep -qE "$regex" "$H_TMP/err"; then
    echo "ok   $what: $(cat "$H_TMP/err")"
  else
    echo "FAIL $what: exit $status (want $want), stderr:" >&2
    sed 's/^/    /' "$H_TMP/err" >&2
    H_FAILURES=$((H_FAILURES + 1))
  fi
}

# h_is_zombie_or_gone PID
h_gone() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [ "${stat%% *}" = Z ]
}

# h_wait_exit PID [SECONDS]: waits for a child to exit and reaps it, leaving
# its exit status in H_STATUS. Returns 1 on timeout. (Not usable in $(...):
# a subshell cannot reap its parent's children.)
h_wait_exit() {
  local pid=$1 limit=${2:-$H_WAIT} deadline
  deadline=$((SECONDS + limit))
  while ! h_gone "$pid"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
  H_STATUS=0
  wait "$pid" 2>/dev/null || H_STATUS=$?
}

# h_wait_port_file FILE PID LOG: prints the port a coordinator (PID, logging
# to LOG) wrote to FILE with --port-file, once it listens; fails the test if
# it exits first or takes over 20 s.
h_wait_port_file() {
  local deadline=$((SECONDS + 20))
  until [ -s "$1" ]; do
    h_gone "$2" && h_fail "ckpt_coordinator exited before writing its port file: $(cat "$3")"
    [ "$SECONDS" -lt "$deadline" ] || h_fail "ckpt_coordinator wrote no port file within 20 s"
    sleep 0.02
  done
  cat "$1"
}

# h_start_coordinator [ARGS...]: a private coordinator on a free port it
# picks itself; exports CKPT_COORD_HOST/CKPT_COORD_PORT for every tool.
h_start_coordinator() {
  local portfile=$H_TMP/coordinator.port
  rm -f "$portfile"  # a coordinator started before in this test wrote it
  "$CKPT_BIN/ckpt_coordinator" --port 0 --port-file "$portfile" "$@" >"$H_TMP/coordinator.log" 2>&1 &
  H_COORD_PID=$!
  H_PORT=$(h_wait_port_file "$portfile" "$H_COORD_PID" "$H_TMP/coordinator.log") || exit 1
  export CKPT_COORD_HOST=localhost CKPT_COORD_PORT=$H_PORT
  h_log "coordinator pid $H_COORD_PID on port $H_PORT"
}

# h_command ARGS...: ckpt_command against the private coordinator.
h_command() {
  "$CKPT_BIN/ckpt_command" --coord-host localhost --coord-port "$H_PORT" "$@"
}

# h_reference OUT CMD...: the uninterrupted native run every test compares with.
h_reference() {
  local out=$1
  shift
  local status=0
  "$@" >"$out" 2>"$H_TMP/reference.err" </dev/null || status=$?
  [ "$status" -eq 0 ] || h_fail "uninterrupted run of '$*' exited with $status"
  [ -s "$out" ] || h_fail "uninterrupted run of '$*' printed nothing"
  h_log "reference run: $(wc -l <"$out") lines"
}

# h_launch OUT [LAUNCH_OPTION...] -- CMD...: runs CMD under ckpt_launch in the
# background (joining the private coordinator, images into $H_CKPTDIR).
h_launch() {
  local out=$1
  shift
  local opts=()
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  "$CKPT_BIN/ckpt_launch" --join --ckptdir "$H_CKPTDIR" "${opts[@]}" "$@" >"$out" 2>"$H_TMP/app.err" </dev/null &
  H_APP_PID=$!
  : >"$out.bounds"
  h_log "launched '$*' as pid $H_APP_PID"
}

# h_max_step FILE: the highest step number printed so far (0 if none).
h_max_step() {
  awk '$1 == "step" && $2 + 0 > max { max = $2 + 0 } END { print max + 0 }' "$1"
}

# h_wait_step FILE N: waits until the running program printed "step N".
h_wait_step() {
  local file=$1 n=$2 deadline=$((SECONDS + H_WAIT))
  until [ "$(h_max_step "$file")" -ge "$n" ]; do
    h_gone "$H_APP_PID" && h_fail "program exited before printing step $n (last: step $(h_max_step "$file"))"
    [ "$SECONDS" -lt "$deadline" ] || h_fail "no step $n within ${H_WAIT} s (last: step $(h_max_step "$file"))"
    sleep 0.02
  done
}

# h_checkpoint [ARGS...]: ckpt_command --checkpoint must succeed and leave a
# restart script.
h_checkpoint() {
  local start=$SECONDS status=0
  h_command --checkpoint "$@" >"$H_TMP/command.log" 2>&1 || status=$?
  [ "$status" -eq 0 ] || h_fail "ckpt_command --checkpoint exited with $status: $(cat "$H_TMP/command.log")"
  [ -f "$H_CKPTDIR/ckpt_restart_script.sh" ] || h_fail "checkpoint succeeded but wrote no ckpt_restart_script.sh"
  h_log "checkpoint done in $((SECONDS - start)) s: $(head -n 1 "$H_TMP/command.log")"
}

# h_generations images|scripts: the generations of the images, or of the
# generations' own restart scripts (ckpt_restart_g<N>.sh), in $H_CKPTDIR:
# ascending, on one line.
h_generations() {
  local pattern='s/^ckpt_restart_g\([0-9]*\)\.sh$/\1/p'
  [ "$1" = images ] && pattern='s/^ckpt_.*_g\([0-9]*\)\.ckpt$/\1/p'
  ls "$H_CKPTDIR" | sed -n "$pattern" | sort -n | uniq | tr '\n' ' ' | sed 's/ $//'
}

# h_expect_generations "G..." [SECONDS]: $H_CKPTDIR holds exactly these
# committed generations (their scripts and their images, every image their
# scripts name, ckpt_restart_script.sh a copy of the newest one's) and
# nothing else of a checkpoint: no image of another generation, no temporary
# file. The processes remove their old images when the commit reaches them,
# just after ckpt_command returns: this waits a little for them.
#
# Incremental images need their parents: the images of the generations their
# chains go through stay too (h_chain_generations).
h_expect_generations() {
  local want=$1 deadline=$((SECONDS + ${2:-10})) problem g images
  while :; do
    problem=
    images=$(h_chain_generations $want)
    [ "$(h_generations scripts)" = "$want" ] || problem="scripts of generations '$(h_generations scripts)'"
    [ "$(h_generations images)" = "$images" ] || problem+=" images of generations '$(h_generations images)' (expected '$images')"
    ls "$H_CKPTDIR" | grep -q '\.tmp\.\|\.sh\.' && problem+=" temporary files"
    for g in $want; do
      grep -o "'[^']*\.ckpt'" "$H_CKPTDIR/ckpt_restart_g$g.sh" 2>/dev/null | tr -d "'" | while read -r image; do
        [ -f "$image" ] || echo "$image"
      done | grep -q . && problem+=" generation $g's script names missing images"
    done
    cmp -s "$H_CKPTDIR/ckpt_restart_script.sh" "$H_CKPTDIR/ckpt_restart_g${want##* }.sh" ||
      problem+=" ckpt_restart_script.sh is not generation ${want##* }'s"
    [ -z "$problem" ] && break
    [ "$SECONDS" -lt "$deadline" ] || h_fail "expected generations '$want' in $H_CKPTDIR, found$problem: $(ls "$H_CKPTDIR" | tr '\n' ' ')"
    sleep 0.1
  done
  h_log "generations kept: $want"
}

# h_chain_generations G...: the generations G and those their images in
# $H_CKPTDIR need (an incremental image's parent, its parent's ...), by
# ckpt_info: ascending, on one line.
h_chain_generations() {
  python3 - "$CKPT_BIN/ckpt_info" "$H_CKPTDIR" "$@" <<'PY'
import glob, json, os, subprocess, sys
info, folder, gens = sys.argv[1], sys.argv[2], sys.argv[3:]
need = set(int(g) for g in gens)
todo = [p for g in gens for p in glob.glob(f"{folder}/ckpt_*_g{g}.ckpt")]
while todo:
    r = subprocess.run([info, "--json", todo.pop()], capture_output=True, text=True)
    if r.returncode != 0:
        continue  # unreadable (its parent gone?): the image check says so
    i = json.loads(r.stdout)
    i = i[0] if isinstance(i, list) else i
    if i.get("parent"):
        need.add(i["parent"]["generation"])
        todo.append(os.path.join(folder, i["parent"]["name"]))
print(" ".join(str(g) for g in sorted(need)))
PY
}

# h_hold_writers N: holds N image writers (SIGSTOP) as soon as their
# temporary files appear in $H_CKPTDIR, mid-write; their pids in H_WRITERS.
h_hold_writers() {
  local deadline=$((SECONDS + H_WAIT)) f pid
  H_WRITERS=()
  while [ "${#H_WRITERS[@]}" -lt "$1" ]; do
    for f in "$H_CKPTDIR"/*.tmp.*; do
      [ -e "$f" ] || continue
      pid=${f##*.tmp.}
      [[ " ${H_WRITERS[*]} " == *" $pid "* ]] && continue
      kill -STOP "$pid" 2>/dev/null || h_fail "image writer $pid ended before it could be held"
      H_WRITERS+=("$pid")
    done
    [ "$SECONDS" -lt "$deadline" ] || h_fail "no $1 image writers within ${H_WAIT} s (held: ${H_WRITERS[*]})"
    sleep 0.005
  done
  h_log "image writers held: ${H_WRITERS[*]}"
}

# h_pid_tables PID...: the pid table files these processes map.
h_pid_tables() {
  local pid
  for pid in "$@"; do
    grep -o '/[^ ]*/ckpt-[0-9]*-[^ ]*\.pids' "/proc/$pid/maps" 2>/dev/null
  done | sort -u
}

# h_kill_app: ckpt_command --kill, then waits until the program is gone.
h_kill_app() {
  h_command --kill >>"$H_TMP/command.log" 2>&1 || h_fail "ckpt_command --kill failed: $(cat "$H_TMP/command.log")"
  h_wait_exit "$H_APP_PID" || h_fail "process $H_APP_PID still alive ${H_WAIT} s after ckpt_command --kill"
  h_log "killed pid $H_APP_PID"
}

# h_restart OUT [CKPT_RESTART_OPTION...]: runs the newest restart script in
# the background (H_RESTART_SCRIPT overrides which script), passing the
# options on to ckpt_restart, appending its output to OUT, and records where
# in OUT the restarted run began.
h_restart() {
  local out=$1 script=${H_RESTART_SCRIPT:-$H_CKPTDIR/ckpt_restart_script.sh}
  shift
  [ -x "$script" ] || h_fail "$script is missing or not executable"
  stat -c %s "$out" >>"$out.bounds"
  "$script" "$@" >>"$out" 2>>"$H_TMP/restart.err" </dev/null &
  H_APP_PID=$!
  h_log "restarted from $script${*:+ with $*} as pid $H_APP_PID"
}

# h_list_json: the coordinator's process list ({"processes": [...]}) as JSON.
h_list_json() {
  h_command --json --list
}

# h_process_count: how many processes the coordinator lists (RUNNING or not).
h_process_count() {
  h_list_json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["processes"]))'
}

# h_wait_procs N: waits until the coordinator lists N processes, all RUNNING:
# a multi-process computation is fully registered (checkpointing earlier
# would leave processes out of the images).
h_wait_procs() {
  local n=$1 deadline=$((SECONDS + H_WAIT)) list
  while :; do
    list=$(h_list_json 2>&1) || h_fail "ckpt_command --list failed: $list"
    python3 -c '
import json, sys
procs = json.loads(sys.argv[1])["processes"]
sys.exit(0 if len(procs) == int(sys.argv[2]) and all(p["state"] == "RUNNING" for p in procs) else 1)
' "$list" "$n" && break
    h_gone "$H_APP_PID" && h_fail "program exited before $n processes were registered: $list"
    [ "$SECONDS" -lt "$deadline" ] || h_fail "the coordinator did not list $n running processes within ${H_WAIT} s: $list"
    sleep 0.05
  done
  h_log "$n processes registered"
}

# h_wait_min_procs N: waits until the coordinator lists at least N processes
# (a computation whose processes come and go, such as a shell script).
h_wait_min_procs() {
  local n=$1 deadline=$((SECONDS + H_WAIT)) count
  while :; do
    count=$(h_process_count) || h_fail "ckpt_command --list failed"
    [ "$count" -ge "$n" ] && break
    h_gone "$H_APP_PID" && h_fail "program exited before $n processes were registered (last count $count)"
    [ "$SECONDS" -lt "$deadline" ] || h_fail "the coordinator did not list $n processes within ${H_WAIT} s (last count $count)"
    sleep 0.05
  done
  h_log "$count processes registered"
}

# h_descendants PID: the pids of every live descendant of PID, one per line.
h_descendants() {
  local stat pid ppid rest
  local -A children=()
  for stat in /proc/[0-9]*/stat; do
    read -r pid rest 2>/dev/null <"$stat" || continue
    rest=${rest##*) }
    read -r _ ppid _ <<<"$rest"
    children[$ppid]+=" $pid"
  done
  local queue=("$1") next
  while [ "${#queue[@]}" -gt 0 ]; do
    next=${queue[0]}
    queue=("${queue[@]:1}")
    for pid in ${children[$next]:-}; do
      echo "$pid"
      queue+=("$pid")
    done
  done
}

# h_proc_state PID: the kernel's state letter of process PID (R, S, T, Z,
# ...; /proc/PID/stat), or "gone".
h_proc_state() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo gone; return; }
  stat=${stat##*) }
  echo "${stat%% *}"
}

# h_workdir NAME: a fresh directory $H_TMP/NAME (for a run's own files).
h_workdir() {
  mkdir -p "$H_TMP/$1" && echo "$H_TMP/$1"
}

# h_wait_app_exit: the (launched or restarted) program must finish with status 0.
h_wait_app_exit() {
  h_wait_exit "$H_APP_PID" || h_fail "program $H_APP_PID did not finish within ${H_WAIT} s"
  [ "$H_STATUS" -eq 0 ] || h_fail "program $H_APP_PID exited with status $H_STATUS"
}

# h_compare EXPECTED OUT: the checkpointed run's output must be the
# uninterrupted run's (see compare_output.py for what restarts may repeat).
h_compare() {
  local bounds=()
  [ -f "$2.bounds" ] && mapfile -t bounds <"$2.bounds"
  python3 "$H_SELF_DIR/compare_output.py" "$1" "$2" "${bounds[@]}" || h_fail "output differs from the uninterrupted run"
  h_log "output matches the uninterrupted run"
}

# h_checkpoint_pair A B: two programs (the commands in the arrays named A
# and B) run uninterrupted into $H_TMP/A.expected and B.expected, then both
# under one private coordinator into $H_TMP/A.out and B.out (neither the
# other's parent); once both printed step 2 they are checkpointed together
# and killed.
h_checkpoint_pair() {
  local -n h_first=$1 h_second=$2
  h_reference "$H_TMP/$1.expected" "${h_first[@]}"
  h_reference "$H_TMP/$2.expected" "${h_second[@]}"
  h_start_coordinator
  h_launch "$H_TMP/$1.out" -- "${h_first[@]}"
  local first_pid=$H_APP_PID
  H_EXTRA_PIDS+=("$first_pid")
  h_wait_step "$H_TMP/$1.out" 2
  h_launch "$H_TMP/$2.out" -- "${h_second[@]}"
  h_wait_step "$H_TMP/$2.out" 2
  h_wait_procs 2
  h_checkpoint
  h_command --kill >>"$H_TMP/command.log" 2>&1 || h_fail "ckpt_command --kill failed"
  h_wait_exit "$first_pid" && h_wait_exit "$H_APP_PID" || h_fail "launched processes still alive after --kill"
}

# h_compare_programs OUT EXPECTED...: several programs restarted together
# print into OUT, each ending with a "done:" line. Waits until all of them
# printed it (an orphan may outlive the root by a moment); each program's
# final line must be its uninterrupted run's (in EXPECTED), and every line one
# that an uninterrupted run printed.
h_compare_programs() {
  local out=$1 expected stray deadline=$((SECONDS + H_WAIT))
  shift
  until [ "$(grep -c '^done:' "$out")" -ge $# ]; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "restarted output has $(grep -c '^done:' "$out") final lines, not $#"
    sleep 0.1
  done
  for expected in "$@"; do
    grep -qxF "$(tail -1 "$expected")" "$out" || h_fail "the final line of $(basename "$expected") is missing after restart"
  done
  stray=$(grep -vxFf <(cat "$@") "$out" | head -3)
  [ -z "$stray" ] || h_fail "restarted output has lines no uninterrupted run printed: $stray"
  h_log "the restarted programs finished as their uninterrupted runs"
}

# h_first_checkpoint STEP CMD...: the usual start. The uninterrupted run of
# CMD into $H_TMP/expected.out, a private coordinator, CMD under ckpt_launch
# printing into $H_OUT ($H_TMP/actual.out), and a checkpoint once it printed
# step STEP.
h_first_checkpoint() {
  local step=$1
  shift
  h_reference "$H_TMP/expected.out" "$@"
  h_start_coordinator
  H_OUT=$H_TMP/actual.out
  h_launch "$H_OUT" -- "$@"
  h_wait_step "$H_OUT" "$step"
  h_checkpoint
}

# h_refused_checkpoint: ckpt_command --checkpoint must fail and leave the
# restart script as it was; its output (the reason) is in $H_REFUSAL.
h_refused_checkpoint() {
  local sum status=0
  sum=$(cksum <"$H_CKPTDIR/ckpt_restart_script.sh")
  h_command --checkpoint >"$H_TMP/refused.log" 2>&1 || status=$?
  H_REFUSAL=$(cat "$H_TMP/refused.log")
  h_log "refused checkpoint: exit $status: $H_REFUSAL"
  [ "$status" -ne 0 ] || h_fail "the checkpoint succeeded, but should have been refused"
  [ "$(cksum <"$H_CKPTDIR/ckpt_restart_script.sh")" = "$sum" ] || h_fail "the failed checkpoint replaced the restart script"
}

# h_root_image JSON: the image, among those `ckpt_info --json` decoded into
# JSON, of the process whose parent is not in the computation.
h_root_image() {
  python3 -c '
import json, sys
images = json.load(open(sys.argv[1]))
pids = {i["process"]["virt_pid"] for i in images}
print(next(i["image"] for i in images if i["process"]["virt_ppid"] not in pids))' "$1"
}

# h_check_crafted SECTION IMAGE NAME REGEX CRAFT_ARG...: a copy of the
# first generation's images, in which it_craft_image changed IMAGE as
# CRAFT_ARG... says, is refused by ckpt_restart --verify (exit 1, one line
# matching "section SECTION: REGEX"), and ckpt_info says it cannot decode
# the section.
h_check_crafted() {
  local section=$1 image=$2 name=$3 regex=$4 dir=$H_TMP/craft/$3 status=0
  shift 4
  mkdir -p "$dir"
  cp "$H_CKPTDIR"/*_g1.ckpt "$dir/"
  "$H_PROGRAMS/it_craft_image" "$image" "$dir/$(basename "$image")" "$@" || h_fail "it_craft_image $* failed"
  "$CKPT_BIN/ckpt_restart" --verify "$dir"/*.ckpt >/dev/null 2>"$H_TMP/$name.err" </dev/null || status=$?
  [ "$status" -eq 1 ] && [ "$(grep -c . "$H_TMP/$name.err")" -eq 1 ] && grep -qE "section $section: $regex" "$H_TMP/$name.err" ||
    h_fail "crafted $name: ckpt_restart --verify exited with $status: $(cat "$H_TMP/$name.err")"
  # Through a file: under pipefail, grep -q leaving at its match could kill
  # ckpt_info with SIGPIPE before its last write and fail the pipeline.
  "$CKPT_BIN/ckpt_info" "$dir/$(basename "$image")" >"$H_TMP/$name.info" 2>&1
  grep -qE "$section .*cannot decode: section $section: $regex" "$H_TMP/$name.info" ||
    h_fail "crafted $name: ckpt_info does not say the section cannot be decoded"
  h_log "crafted $name refused: $(cat "$H_TMP/$name.err")"
}

# h_restart_to_end: restarts from the newest script; the program must finish
# with the uninterrupted run's output.
h_restart_to_end() {
  h_restart "$H_OUT"
  h_wait_app_exit
  h_compare "$H_TMP/expected.out" "$H_OUT"
}

# h_cycle_test CYCLES FIRST_STEP -- CMD...: the standard test. Runs CMD
# uninterrupted, then under ckpt_launch with CYCLES rounds of: wait until the
# program is past FIRST_STEP (later rounds: a step the restarted process
# printed itself), checkpoint, kill, restart from the newest script. Finally
# the restarted program must finish and its output match.
h_cycle_test() {
  local cycles=$1 first=$2
  shift 3
  h_init
  h_reference "$H_TMP/expected.out" "$@"
  h_start_coordinator
  local out=$H_TMP/actual.out cycle target=$first
  h_launch "$out" -- "$@"
  for ((cycle = 1; cycle <= cycles; cycle++)); do
    h_wait_step "$out" "$target"
    h_checkpoint
    h_kill_app
    # A step beyond anything printed so far can only come from the restarted
    # process, so the next round checkpoints a restarted process mid-run.
    target=$(($(h_max_step "$out") + 2))
    h_restart "$out"
  done
  h_wait_app_exit
  h_compare "$H_TMP/expected.out" "$out"
  echo "PASS"
}
