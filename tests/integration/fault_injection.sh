#!/bin/bash
# fault_injection.sh VICTIM PHASE: a fault in the middle of a checkpoint.
#
# A parent and its child (it_fault_tree) checkpoint once (generation 1), then
# in checkpoint 2 VICTIM is SIGKILLed at PHASE:
#   coordinator  suspend | drain | write | commit (a new one starts on its port)
#   process      suspend | drain | write | commit (the child)
#   writer       write   (the child's image writer)
# suspend and drain are held by the program's plugin (the child waits in that
# event); write holds the image writers with SIGSTOP as their temporary files
# appear; commit is after every image is written and before the coordinator
# heard of it (the coordinator stopped). After the fault: ckpt_command says
# what failed (or, where the generation holds, that it was written), the
# program runs on, the next checkpoint succeeds, the directory holds exactly
# the two newest committed generations (no image of another, no temporary
# file), the newest restarts and finishes as the uninterrupted run does, and
# the pid tables of the killed and of the finished computation are gone.
. "$(dirname "$0")/harness.sh"
victim=$1 phase=$2
h_init
stall=$(h_workdir stall)
h_first_checkpoint 3 "$H_PROGRAMS/it_fault_tree" 200 30 48 "$stall"
h_wait_procs 2
child=$(h_descendants "$H_APP_PID")
[ "$(echo "$child" | wc -w)" -eq 1 ] || h_fail "expected one child of $H_APP_PID, found: $child"
launch_tables=$(h_pid_tables "$H_APP_PID")
[ -n "$launch_tables" ] || h_fail "the program maps no pid table"

# state_of PID: the coordinator's state of the process with kernel pid PID.
state_of() {
  h_list_json | python3 -c '
import json, sys
print(next((p["state"] for p in json.load(sys.stdin)["processes"] if p["real_pid"] == int(sys.argv[1])), "GONE"))' "$1"
}
# wait_state PID STATE...: until the coordinator lists PID in one of STATEs.
wait_state() {
  local pid=$1 deadline=$((SECONDS + H_WAIT)) state
  shift
  until state=$(state_of "$pid") && [[ " $* " == *" $state "* ]]; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "process $pid is $state, not $*, after ${H_WAIT} s"
    sleep 0.02
  done
}
release_writers() { kill -CONT "${H_WRITERS[@]}" 2>/dev/null; }
# wait_images G N: until generation G has N images and no temporary file.
wait_images() {
  local deadline=$((SECONDS + H_WAIT))
  until [ "$(ls "$H_CKPTDIR" | grep -c "_g$1\\.ckpt\$")" -eq "$2" ] && ! ls "$H_CKPTDIR" | grep -q '\.tmp\.'; do
    [ "$SECONDS" -lt "$deadline" ] || h_fail "generation $1 has no $2 images after ${H_WAIT} s: $(ls "$H_CKPTDIR")"
    sleep 0.02
  done
}
new_coordinator() {
  h_wait_exit "$H_COORD_PID" || h_fail "the coordinator did not die"
  "$CKPT_BIN/ckpt_coordinator" --port "$H_PORT" --port-file "$H_TMP/coordinator2.port" >"$H_TMP/coordinator2.log" 2>&1 &
  H_COORD_PID=$!
  h_wait_port_file "$H_TMP/coordinator2.port" "$H_COORD_PID" "$H_TMP/coordinator2.log" >/dev/null || exit 1
  h_log "new coordinator $H_COORD_PID on port $H_PORT"
}

case $phase in suspend | drain) touch "$stall/$phase.child" ;; esac
h_command --checkpoint >"$H_TMP/fault.log" 2>&1 &
command_pid=$!
case $phase in
  suspend | drain)
    deadline=$((SECONDS + H_WAIT))
    until [ -s "$stall/stalled.$phase.child" ]; do
      [ "$SECONDS" -lt "$deadline" ] || h_fail "the child did not stall at $phase"
      sleep 0.02
    done
    h_log "the child waits in $phase"
    ;;
  write | commit)
    h_hold_writers 2
    for writer in "${H_WRITERS[@]}"; do
      [ "$(awk '{ print $4 }' "/proc/$writer/stat")" = "$child" ] && CHILD_WRITER=$writer
    done
    [ -n "${CHILD_WRITER:-}" ] || h_fail "none of the writers ${H_WRITERS[*]} is the child's"
    ;;
esac
case $victim:$phase in
  coordinator:suspend | coordinator:drain)
    kill -KILL "$H_COORD_PID"
    rm -f "$stall/$phase.child"
    ;;
  process:suspend | process:drain)
    kill -KILL "$child"
    rm -f "$stall/$phase.child"
    ;;
  coordinator:write)
    kill -KILL "$H_COORD_PID"
    release_writers
    ;;
  process:write)
    wait_state "$child" REFILLED
    kill -KILL "$child"
    release_writers
    ;;
  writer:write)
    kill -KILL "$CHILD_WRITER"
    release_writers
    ;;
  coordinator:commit | process:commit)
    wait_state "$child" REFILLED
    wait_state "$H_APP_PID" REFILLED
    kill -STOP "$H_COORD_PID"
    release_writers
    wait_images 2 2
    if [ "$victim" = coordinator ]; then
      kill -KILL "$H_COORD_PID"
    else
      kill -KILL "$child"
      kill -CONT "$H_COORD_PID"
    fi
    ;;
  *) h_fail "unknown fault $victim at $phase" ;;
esac
h_log "SIGKILLed the $victim at $phase"

status=0
wait "$command_pid" || status=$?
said=$(cat "$H_TMP/fault.log")
h_log "ckpt_command --checkpoint: exit $status: $said"
# What ckpt_command must say, and the generations kept after the next checkpoint.
case $victim:$phase in
  coordinator:*) want_status=1 want_said='connection closed by the coordinator' kept='1 3' ;;
  process:suspend)
    # The generation fails; the retry checkpoints the computation without the child.
    want_status=0 want_said='checkpoint 2 failed: process [0-9]+ \(it_fault_tree, pid [0-9]+ on [^)]*\) exited before suspending; retried as checkpoint 3'
    kept='3 4'
    ;;
  process:drain) want_status=1 want_said='checkpoint 2 failed: process [0-9]+ \(it_fault_tree, .*\) disconnected before reaching DRAINED' kept='1 3' ;;
  # The child was checkpointed with the others, and its writer finished its image.
  process:write | process:commit) want_status=0 want_said='^checkpoint 2 written' kept='2 3' ;;
  writer:write) want_status=1 want_said='checkpoint 2 failed: process [0-9]+ \(it_fault_tree, .*\) reported: image writer killed by signal 9' kept='1 3' ;;
esac
[ "$status" -eq "$want_status" ] || h_fail "ckpt_command exited with $status, expected $want_status: $said"
grep -qE "$want_said" "$H_TMP/fault.log" || h_fail "ckpt_command did not say /$want_said/: $said"

h_gone "$H_APP_PID" && h_fail "the program died with the fault"
h_wait_step "$H_OUT" $(($(h_max_step "$H_OUT") + 2))
[ "$victim" = coordinator ] && new_coordinator
if [ "$victim" = process ]; then h_wait_procs 1; else h_wait_procs 2; fi
h_checkpoint
h_expect_generations "$kept"

h_kill_app
# The killed computation is over once its last process is gone (the
# restart sweeps its pid table then).
deadline=$((SECONDS + H_WAIT))
until h_gone "$child"; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "the child $child outlived ckpt_command --kill"
  sleep 0.05
done
h_restart "$H_OUT"
h_wait_min_procs 1
for table in $launch_tables; do
  [ ! -e "$table" ] || h_fail "the killed computation's pid table $table is still there after the restart"
done
restart_tables=$(h_pid_tables $(h_descendants "$H_APP_PID"))
[ -n "$restart_tables" ] || h_fail "the restarted computation maps no pid table"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$H_OUT"
for table in $restart_tables; do
  [ ! -e "$table" ] || h_fail "the finished computation's pid table $table is still there"
done
echo PASS
