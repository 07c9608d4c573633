#!/bin/bash
# sysv_ipc.sh MODE PROG [ARG...]: PROG is programs/sysv_pipeline.c, given a
# key file made here (its System V keys come from ftok on it; whatever
# objects carry them are removed when the test ends).
#   cycles N   checkpointed mid-run, killed and restarted N times; the final
#              output must be the uninterrupted run's.
#   checkpoints N  checkpointed N times without a restart: saving the objects
#              (messages copied, not taken) must change nothing the program sees.
#   key_held   checkpointed and killed; its objects are removed and another
#              program (PROG --hold) takes the same keys; the restart must
#              still finish as the uninterrupted run, and leave the other
#              program's objects alone.
. "$(dirname "$0")/harness.sh"
mode=$1
shift
cycles=1
if [ "$mode" = cycles ] || [ "$mode" = checkpoints ]; then
  cycles=$1
  shift
fi
prog=$1
shift
keyfile=$(mktemp "${TMPDIR:-/tmp}/ckpt-sysv-key.XXXXXX") || exit 1
read -r shm_key sem_key msg_key < <("$prog" --keys "$keyfile") || { echo "FAIL: $prog --keys" >&2; exit 1; }
remove_keyed() { ipcrm -M "$shm_key" -S "$sem_key" -Q "$msg_key" >/dev/null 2>&1; true; }
h_on_exit "remove_keyed; rm -f '$keyfile'"

case $mode in
  cycles)
    h_cycle_test "$cycles" 5 -- "$prog" "$keyfile" "$@"
    ;;
  checkpoints)
    h_init
    h_reference "$H_TMP/expected.out" "$prog" "$keyfile" "$@"
    h_start_coordinator
    out=$H_TMP/actual.out
    h_launch "$out" -- "$prog" "$keyfile" "$@"
    for ((i = 1; i <= cycles; i++)); do
      h_wait_step "$out" $(($(h_max_step "$out") + 2))
      h_checkpoint
    done
    h_wait_app_exit
    h_compare "$H_TMP/expected.out" "$out"
    echo PASS
    ;;
  key_held)
    h_init
    h_first_checkpoint 5 "$prog" "$keyfile" "$@"
    # ckpt_info shows the objects decoded, saved once (by one image).
    "$CKPT_BIN/ckpt_info" --json "$H_CKPTDIR"/*.ckpt >"$H_TMP/images.json" || h_fail "ckpt_info --json failed"
    python3 - "$H_TMP/images.json" "$shm_key" "$sem_key" "$msg_key" <<'PY' || h_fail "ckpt_info's sysv sections do not show the program's objects"
import json, sys
images = json.load(open(sys.argv[1]))
shm_key, sem_key, msg_key = sys.argv[2:5]
sysv = [s["content"] for im in images for s in im["sections"] if s["name"] == "sysv"]
assert len(sysv) == len(images) == 4, f"{len(sysv)} sysv sections in {len(images)} images"
savers = [s for s in sysv if s["saver"]]
assert len(savers) == 1, f"{len(savers)} savers"
objects = {(o["kind"], o["key"]): o for o in savers[0]["objects"]}
shm, sem, msg = objects[("shm", shm_key)], objects[("sem", sem_key)], objects[("msg", msg_key)]
assert shm["size"] == 24 and shm["mode"] == "640" and not shm["removed"], shm
assert sem["nsems"] == 3 and sem["mode"] == "660" and sem["values"][2] == 2, sem
assert msg["mode"] == "620" and [m["type"] for m in msg["messages"]] == [1, 2] * (len(msg["messages"]) // 2), msg
assert len(msg["messages"]) >= 2, "no message in flight"
removed = [o for o in savers[0]["objects"] if o["kind"] == "shm" and o["removed"]]
assert len(removed) == 1 and removed[0]["size"] == 4096, removed
undo = sorted((a["semid"], a["semnum"], a["adj"]) for a in savers[0]["sem_undo"])
assert undo == [(sem["id"], 2, -1)] * 2, undo
# Every process lists the segments it has attached (inherited across fork):
# the removed one, the counters read-write and read-only.
assert all(sorted(a["prot"] for a in s["attached"]) == [1, 3, 3] for s in sysv), [s["attached"] for s in sysv]
PY
    h_log "ckpt_info shows the System V objects"
    h_kill_app
    # The killed computation's objects outlive it; another program takes the keys.
    remove_keyed
    "$prog" --hold "$keyfile" >"$H_TMP/holder.out" 2>"$H_TMP/holder.err" </dev/null &
    holder=$!
    H_EXTRA_PIDS+=("$holder")
    deadline=$((SECONDS + H_WAIT))
    until grep -q holding "$H_TMP/holder.out"; do
      h_gone "$holder" && h_fail "the holder exited: $(cat "$H_TMP/holder.err")"
      [ "$SECONDS" -lt "$deadline" ] || h_fail "the holder did not start"
      sleep 0.05
    done
    h_restart_to_end
    grep -q "IPC_CREAT|IPC_EXCL on a held key: EEXIST" "$H_OUT" || h_fail "the restarted program could create an object under its own key"
    check=$("$prog" --check-held "$keyfile" 2>&1) || h_fail "the holder's objects: $check"
    [ "$check" = "held intact" ] || h_fail "the holder's objects: $check"
    h_log "the other program's objects are intact"
    echo PASS
    ;;
  *)
    echo "usage: $0 cycles N|checkpoints N|key_held PROG [ARG...]" >&2
    exit 2
    ;;
esac
