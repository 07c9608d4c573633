#!/bin/bash
# pid_section.sh PROG: PROG (programs/pid_zombies.c) builds a small tree
# with zombies and a process group, prints what section "pid" of each image
# must hold, and is checkpointed; ckpt_info --json says what the images hold.
# They must agree, and PROG must still reap its children with the right
# statuses afterwards.
. "$(dirname "$0")/harness.sh"
prog=$1
h_init
h_start_coordinator
out=$H_TMP/actual.out
go=$H_TMP/go
h_launch "$out" -- "$prog" "$go"
deadline=$((SECONDS + H_WAIT))
until grep -q '^ready$' "$out"; do
  h_gone "$H_APP_PID" && h_fail "program exited early: $(cat "$out")"
  [ "$SECONDS" -lt "$deadline" ] || h_fail "program not ready within ${H_WAIT} s"
  sleep 0.02
done
h_checkpoint
touch "$go"
h_wait_app_exit
grep -q '^done$' "$out" || h_fail "after the checkpoint: $(tail -n 1 "$out")"
grep -E '^(process|table|zombie) ' "$out" | sort >"$H_TMP/expected.sections"
"$CKPT_BIN/ckpt_info" --json "$H_CKPTDIR"/*.ckpt >"$H_TMP/images.json" || h_fail "ckpt_info cannot read the images"
# The lines PROG prints, from each image's decoded section "pid".
python3 - "$H_TMP/images.json" >"$H_TMP/dump.out" <<'PY' || h_fail "cannot read the images' pid sections"
import json, sys
for img in json.load(open(sys.argv[1])):
    (pid,) = [s["content"] for s in img["sections"] if s["name"] == "pid"]
    print("table", pid["pidtable_path"])
    print("process", pid["vpid"], pid["vppid"], pid["vpgid"], pid["vsid"])
    for z in pid["zombies"]:
        print("zombie", z["vpid"], z["wait_status"], z["vpgid"])
PY
cat "$H_TMP/dump.out" >&2
sort "$H_TMP/dump.out" >"$H_TMP/actual.sections"
diff -u "$H_TMP/expected.sections" "$H_TMP/actual.sections" >&2 || h_fail "section pid differs from the process tree"
h_log "section pid of $(ls "$H_CKPTDIR"/*.ckpt | wc -l) images matches the tree"
echo "PASS"
