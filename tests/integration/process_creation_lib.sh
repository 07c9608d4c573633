# Helpers shared by the process_creation_*.sh tests (source after harness.sh).

# pc_wait_line FILE REGEX: waits until the running program printed a line
# matching REGEX.
pc_wait_line() {
  local file=$1 regex=$2 deadline=$((SECONDS + H_WAIT))
  until grep -Eq "$regex" "$file"; do
    h_gone "$H_APP_PID" && h_fail "program exited before printing /$regex/: $(cat "$file")"
    [ "$SECONDS" -lt "$deadline" ] || h_fail "no line /$regex/ within ${H_WAIT} s: $(cat "$file")"
    sleep 0.02
  done
}

# pc_images GLOB: the images of the last checkpoint matching GLOB, one per line.
pc_images() {
  local f
  for f in "$H_CKPTDIR"/$1; do
    [ -e "$f" ] && echo "$f"
  done
}

# pc_expect_images COUNT GLOB: exactly COUNT images match GLOB, and the
# restart script names each of them.
pc_expect_images() {
  local count=$1 glob=$2 n image script=$H_CKPTDIR/ckpt_restart_script.sh
  n=$(pc_images "$glob" | wc -l)
  [ "$n" -eq "$count" ] || h_fail "expected $count images $glob, found $n: $(ls "$H_CKPTDIR")"
  while read -r image; do
    grep -qF "'$image'" "$script" || h_fail "the restart script does not name $image"
  done < <(pc_images "$glob")
  h_log "$count images $glob, all in the restart script"
}

# pc_process_count: how many processes the coordinator has.
pc_process_count() {
  h_command --json --list | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["processes"]))'
}
