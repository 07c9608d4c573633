#!/bin/bash
# tree_exec.sh FIRST SECOND: a program execs another mid-run (with an
# environment stripped of LD_PRELOAD and CKPT_*), and both sides of the exec
# are checkpointed and restarted (programs/tree_exec_{first,second}.c; the
# exec comes after step 10).
#   run 1: checkpoint after the exec (the coordinator must have seen one
#          process throughout), kill, restart, finish;
#   run 2: checkpoint before the exec, kill, restart; the restarted process
#          execs, is checkpointed again after the exec, killed, restarted,
#          and finishes.
# Each run's output must equal the uninterrupted run's.
. "$(dirname "$0")/harness.sh"
first=$1
second=$2
h_init
h_reference "$H_TMP/expected.out" "$first" "$second" "$(h_workdir reference)" 10 20 100
h_start_coordinator

# process_identity: "unique_id pid" of the only process the coordinator lists.
process_identity() {
  h_list_json | python3 -c '
import json, sys
procs = json.load(sys.stdin)["processes"]
if len(procs) != 1:
    sys.exit(f"{len(procs)} processes listed: {procs}")
print(procs[0]["unique_id"], procs[0]["pid"])'
}

h_log "run 1: checkpoint after the exec"
out=$H_TMP/after-exec.out
h_launch "$out" -- "$first" "$second" "$(h_workdir after-exec)" 10 20 100
h_wait_step "$out" 3
h_wait_procs 1
before=$(process_identity) || h_fail "before the exec: $before"
h_wait_step "$out" 13
grep -q "^exec'ed: " "$out" || h_fail "step 13 printed but the exec did not happen"
h_wait_procs 1
after=$(process_identity) || h_fail "after the exec: $after"
[ "$before" = "$after" ] || h_fail "the coordinator saw another process after the exec: '$before' then '$after'"
h_checkpoint
h_kill_app
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"

h_log "run 2: checkpoint before the exec, then again after it"
H_CKPTDIR=$H_TMP/ckpt-before-exec
mkdir -p "$H_CKPTDIR"
out=$H_TMP/before-exec.out
h_launch "$out" -- "$first" "$second" "$(h_workdir before-exec)" 10 20 100
h_wait_step "$out" 3
h_wait_procs 1
h_checkpoint
h_kill_app
h_restart "$out"
target=$(($(h_max_step "$out") + 2))
[ "$target" -ge 13 ] || target=13
h_wait_step "$out" "$target"
h_wait_procs 1
h_checkpoint
h_kill_app
h_restart "$out"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
first_restart=$(sed -n 1p "$out.bounds")
tail -c +$((first_restart + 1)) "$out" | grep -q ' before exec: ' ||
  h_fail "the first restart did not resume before the exec (the checkpoint came too late)"
echo PASS
