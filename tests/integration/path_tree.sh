#!/bin/bash
# path_tree.sh MODE: a program works in a directory tree by relative and
# absolute paths (files held open, getcwd, realpath, readlink of
# /proc/self/cwd and /proc/self/fd/N); it is checkpointed, killed, the tree
# is moved elsewhere, and ckpt_restart --path-map gives the program its old
# paths at the new place. Its output must be an uninterrupted run's in a real
# tree, and its files must end up in the moved tree only.
#   launch   the tree never exists at the path the program uses: ckpt_launch
#            --path-map VIRTUAL=tree1 from the start, VIRTUAL=tree2 at restart
#            (the image's map, shown by ckpt_info, is replaced).
#   restart  launched without a map in the real tree1; restarted with
#            --path-map tree1=tree2 after the move.
. "$(dirname "$0")/harness.sh"
mode=$1
case "$mode" in
  launch | restart) ;;
  *) h_fail "usage: path_tree.sh launch|restart" ;;
esac
h_init
prog=$H_PROGRAMS/it_path_tree
steps=14 pause=150

make_tree() {
  mkdir -p "$1" || h_fail "cannot make $1"
  for i in $(seq 1 $steps); do printf 'record %05d....\n' "$i"; done >"$1/input.txt"
  # Run by the program with its TREE as $1: says where /bin/pwd (getcwd)
  # finds itself, TREE shown as <tree> (a path elsewhere shows in full).
  cat >"$1/hello.sh" <<'SH'
#!/bin/sh
cwd=$(/bin/pwd)
case "$cwd" in "$1" | "$1"/*) echo "hello.sh in <tree>${cwd#"$1"}" ;; *) echo "hello.sh in $cwd" ;; esac
SH
  chmod +x "$1/hello.sh"
}
make_tree "$H_TMP/ref"
h_reference "$H_TMP/expected.out" "$prog" "$H_TMP/ref" $steps $pause

# Bad maps are refused with one line before anything runs.
h_check_error "a relative --path-map is refused" 2 "ckpt_launch: --path-map: 'rel=/x': both paths must be absolute" \
  "$CKPT_BIN/ckpt_launch" --path-map rel=/x true
h_check_error "DMTCP_PATH_MAPPING without ':' is refused" 2 "DMTCP_PATH_MAPPING: '/a': expected VIRTUAL:REAL" \
  env DMTCP_PATH_MAPPING=/a "$CKPT_BIN/ckpt_launch" true
h_check_error "ckpt_restart refuses a map of /" 2 "ckpt_restart: --path-map: '/=/x': a path may not be / itself" \
  "$CKPT_BIN/ckpt_restart" --path-map /=/x image.ckpt

h_start_coordinator
make_tree "$H_TMP/tree1"
out=$H_TMP/actual.out
cd "$H_TMP" || h_fail "cannot enter $H_TMP"
if [ "$mode" = launch ]; then
  tree=$H_TMP/virtual
  h_launch "$out" --path-map "$tree=$H_TMP/tree1" -- "$prog" "$tree" $steps $pause
else
  tree=$H_TMP/tree1
  h_launch "$out" -- "$prog" "$tree" $steps $pause
fi
h_wait_step "$out" 4
h_checkpoint
h_kill_app
if [ "$mode" = launch ]; then
  image=$(ls "$H_CKPTDIR"/*.ckpt | head -1)
  "$CKPT_BIN/ckpt_info" --json "$image" >"$H_TMP/info.json" || h_fail "ckpt_info $image failed"
  python3 - "$H_TMP/info.json" "$tree" "$H_TMP/tree1" <<'PY' || h_fail "the image's path section is not the launch map"
import json, sys
(info,) = json.load(open(sys.argv[1]))  # one image: a list of one
sections = [s for s in info["sections"] if s["name"] == "path"]
assert sections, "no path section"
assert sections[0]["content"]["entries"] == [{"virtual": sys.argv[2], "real": sys.argv[3]}], sections[0]
PY
fi
mv "$H_TMP/tree1" "$H_TMP/tree2" || h_fail "cannot move the tree"
h_restart "$out" --path-map "$tree=$H_TMP/tree2"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
[ -e "$H_TMP/tree1" ] && h_fail "the program wrote into the old place of the tree: $(ls -R "$H_TMP/tree1")"
[ "$mode" = launch ] && [ -e "$tree" ] && h_fail "the virtual path $tree was made on disk"
cmp -s "$H_TMP/ref/work/log.txt" "$H_TMP/tree2/work/log.txt" || h_fail "the moved tree's log.txt differs from the uninterrupted run's"
[ -f "$H_TMP/tree2/work/s$steps.done" ] || h_fail "the last step's file is not in the moved tree"
echo "PASS"
