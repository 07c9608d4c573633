#!/bin/bash
# tree_file_policy.sh MODE PROG: what restart does with a file, per
# ckpt_launch --file-policy, or where it finds it (ckpt_restart --relocate).
# PROG is programs/tree_file_policy.c. The program is checkpointed and killed
# mid-run; between the kill and the restart the test changes the file under
# test the way the policy is meant for, restarts, and checks the effect the
# policy promises, which would not show were the policy ignored (treated as
# the default, merge). The program's output must still equal the
# uninterrupted run's.
#
# MODE:
#   merge       append.dat=merge: another writer appends to append.dat; the
#               restarted program writes on at its saved offset, over it.
#   ignore      ignore.dat=ignore: ignore.dat is rewritten, shorter; the
#               restarted program reads it again from offset 0.
#   append      append.dat=append: another writer appends to append.dat; the
#               restarted program's writes go after that line.
#   replace     replace.dat=replace: replace.dat is overwritten; the restart
#               puts back the checkpoint's copy, so it ends as in the
#               uninterrupted run.
#   substitute  substitute.dat=substitute: substitute.dat is overwritten; the
#               restarted program works on the checkpoint's copy and leaves
#               the file on disk alone.
#   from_file   as replace, with the rule read from --file-policy-file (after
#               a comment and a rule for other paths).
#   relocate    the program's directory is moved; ckpt_restart --relocate
#               OLD=NEW finds the files and the working directory there, and
#               leaves OLD-more (same prefix, another path component) alone.
#   missing     the same move, restarted without --relocate: the restart
#               must stop before any process runs, naming the missing file
#               and the process, and run --run-on-fail's command; then a
#               restart with --relocate still works.
. "$(dirname "$0")/harness.sh"
mode=$1
prog=$2
h_init

# dirs_in BASE: BASE/data and BASE/data-more, the program's two directories.
dirs_in() {
  mkdir -p "$1/data" "$1/data-more"
  data=$1/data
  more=$1/data-more
}

dirs_in "$H_TMP/reference"
h_reference "$H_TMP/expected.out" "$prog" "$data" "$more" 40 100
reference=$data
dirs_in "$H_TMP/run"

launch_opts=()
case $mode in
  merge | append) launch_opts=(--file-policy "$data/append.dat=$mode") ;;
  ignore | replace | substitute) launch_opts=(--file-policy "$data/$mode.dat=$mode") ;;
  from_file)
    printf '# rules of the policy-file test\n\n/nonexistent/*.dat=ignore\n %s = replace\n' "$data/replace.dat" \
      >"$H_TMP/policies"
    launch_opts=(--file-policy-file "$H_TMP/policies")
    mode=replace
    ;;
  relocate | missing) ;;
  *) h_fail "unknown mode '$mode'" ;;
esac

h_start_coordinator
out=$H_TMP/actual.out
h_launch "$out" "${launch_opts[@]}" -- "$prog" "$data" "$more" 40 100
h_wait_step "$out" 5
h_checkpoint
h_kill_app
killed_at=$(h_max_step "$out")

restart_opts=()
case $mode in
  merge | append) echo "EXTERNAL LINE" >>"$data/append.dat" ;;
  ignore) printf 'ignore NEW\n' >"$data/ignore.dat" ;;
  replace | substitute) printf 'OVERWRITTEN WHILE THE PROGRAM WAS DOWN\n' >"$data/$mode.dat" ;;
  relocate | missing)
    mv "$data" "$H_TMP/run/moved"
    restart_opts=(--relocate "$data=$H_TMP/run/moved")
    ;;
esac

if [ "$mode" = missing ]; then
  before=$(stat -c %s "$out")
  status=0
  timeout 60 "$H_CKPTDIR/ckpt_restart_script.sh" --run-on-fail "touch $H_TMP/run-on-fail.ran" \
    >>"$out" 2>"$H_TMP/missing.err" </dev/null || status=$?
  h_log "restart with the files missing: exit $status: $(cat "$H_TMP/missing.err")"
  [ "$status" -ne 0 ] || h_fail "ckpt_restart succeeded although $data is gone"
  [ "$status" -ne 124 ] || h_fail "ckpt_restart hung with its files missing"
  [ "$(stat -c %s "$out")" -eq "$before" ] || h_fail "the program ran (printed output) although its files are missing"
  grep -qF "$data" "$H_TMP/missing.err" || h_fail "the failure message does not name the missing path ($data or a file under it)"
  grep -qE "it_tree_file_policy|\\b$H_APP_PID\\b" "$H_TMP/missing.err" ||
    h_fail "the failure message does not name the process (it_tree_file_policy, pid $H_APP_PID)"
  [ -e "$H_TMP/run-on-fail.ran" ] || h_fail "--run-on-fail's command did not run"
  h_log "the restart stopped before running anything, named the file and ran --run-on-fail"
fi

h_restart "$out" "${restart_opts[@]}"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"

case $mode in
  merge)
    cmp "$reference/append.dat" "$data/append.dat" >/dev/null ||
      h_fail "append.dat=merge: the restarted program did not write on at its saved offset: $(diff "$reference/append.dat" "$data/append.dat" | head)"
    ;;
  ignore)
    notes=$(grep -c '^NOTE ignore.dat read again: ignore NEW$' "$H_TMP/restart.err")
    [ "$notes" -eq 1 ] ||
      h_fail "ignore.dat=ignore: the restarted program read the new content $notes times (expected once, from offset 0): $(grep NOTE "$H_TMP/restart.err")"
    ;;
  append)
    python3 - "$data/append.dat" "$killed_at" <<'EOF' || h_fail "append.dat=append: the restarted program did not write after the line appended while it was down"
import sys
lines = open(sys.argv[1]).read().splitlines()
killed_at = int(sys.argv[2])
if lines.count("EXTERNAL LINE") != 1:
    sys.exit(f"'EXTERNAL LINE' occurs {lines.count('EXTERNAL LINE')} times: {lines}")
cut = lines.index("EXTERNAL LINE")
before, after = lines[:cut], lines[cut + 1:]
if before != [f"append step {i:03d}" for i in range(1, len(before) + 1)] or len(before) < killed_at:
    sys.exit(f"before the external line: {before}")
first = 41 - len(after)
if not after or first < 2 or first > len(before) + 1 or after != [f"append step {i:03d}" for i in range(first, 41)]:
    sys.exit(f"after the external line: {after}")
EOF
    ;;
  replace)
    cmp "$reference/replace.dat" "$data/replace.dat" >/dev/null ||
      h_fail "replace.dat=replace: the file does not end as in the uninterrupted run: $(diff "$reference/replace.dat" "$data/replace.dat" | head)"
    ;;
  substitute)
    [ "$(cat "$data/substitute.dat")" = "OVERWRITTEN WHILE THE PROGRAM WAS DOWN" ] ||
      h_fail "substitute.dat=substitute: the restarted program changed the file on disk: $(head -5 "$data/substitute.dat")"
    ;;
  relocate | missing)
    moved=$H_TMP/run/moved
    [ ! -e "$data" ] || h_fail "the restarted program recreated $data instead of using $moved"
    [ -s "$moved/cwd-check.dat" ] || h_fail "the working directory was not relocated: no $moved/cwd-check.dat"
    cmp "$reference/append.dat" "$moved/append.dat" >/dev/null ||
      h_fail "append.dat under $moved does not end as in the uninterrupted run"
    [ -s "$more/other.dat" ] || h_fail "$more/other.dat is gone"
    ;;
esac
h_log "file policy check '$mode' passed"
echo PASS
