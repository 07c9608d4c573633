#!/bin/bash
# crafted_images.sh: a restart trusts nothing in an image (issue 8). From a
# real checkpoint of two programs, images are crafted with every checksum
# right (it_craft_image): a region named /dev/shm/../../FILE (whose bytes the
# shm kind would write into FILE), kernel, non-canonical and NULL-page
# addresses, more threads than a process can have, a duplicated thread
# record, two leaders, an image of another user, a partial set, and the other
# program's image under the expected name. Each is refused with exit status 1
# and one line that names the image and the problem: by ckpt_restart before
# any process exists (it runs under it_no_fork, where creating a process
# kills it) and before anything is written, and in the same words by
# ckpt_restart --verify and ckpt_info --verify. Positive control: the intact
# set passes both --verify and restarts to the uninterrupted runs' results.
. "$(dirname "$0")/harness.sh"
h_init
a=("$H_PROGRAMS/it_heap_churn" 8 40 80)
b=("$H_PROGRAMS/it_threads_queue" 40 100)
h_checkpoint_pair a b
A=$(ls "$H_CKPTDIR"/ckpt_it_heap_churn_*_g1.ckpt) || h_fail "no image of it_heap_churn"
B=$(ls "$H_CKPTDIR"/ckpt_it_threads_queue_*_g1.ckpt) || h_fail "no image of it_threads_queue"
h_log "images $A and $B"

# craft CASE EDIT...: a copy of A with the edits, under A's name in a
# directory of its own; prints its path.
craft() {
  local dir=$H_TMP/craft/$1
  shift
  mkdir -p "$dir"
  "$H_PROGRAMS/it_craft_image" "$A" "$dir/$(basename "$A")" "$@" || h_fail "it_craft_image $* failed"
  echo "$dir/$(basename "$A")"
}

failures=0
# run_tool NAME TOOL ARGS...: one refusal attempt into $H_TMP/NAME.err; sets
# status and problem (empty if it was refused the right way). ckpt_info
# names each bad image on a line of its own, so with `per_image` set it may
# say more than one line, the first as the others' one.
run_tool() {
  local name=$1 err=$H_TMP/$1.err
  shift
  status=0
  timeout -k 5 30 "${runner[@]}" "$@" >/dev/null 2>"$err" </dev/null || status=$?
  problem=
  if [ "$status" -eq $((128 + 31)) ]; then
    problem="it created a process (killed by it_no_fork)"
  elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    problem="hung (killed after 30 s)"
  elif [ "$status" -ne 1 ]; then
    problem="exit status $status, not 1"
  elif [ -z "$per_image" ] && [ "$(grep -c . "$err")" -ne 1 ]; then
    problem="$(grep -c . "$err") lines on stderr instead of one"
  elif [ -n "$per_image" ] && grep -qv '^ckpt_info: image ' <(tail -n +2 "$err"); then
    problem="stderr has more than one line, and not one per image"
  fi
}

# expect_refused CASE REGEX IMAGE...: ckpt_restart (where a fork kills it),
# ckpt_restart --verify and ckpt_info --verify each refuse the set with the
# same line, matching REGEX. `runner` (an array) runs the tools (as another
# user, for instance).
runner=()
expect_refused() {
  local name=$1 regex=$2 tool line first=
  shift 2
  for tool in restart verify info; do
    per_image=
    case $tool in
      restart) run_tool "$name.$tool" "$H_PROGRAMS/it_no_fork" "$CKPT_BIN/ckpt_restart" "$@" ;;
      verify) run_tool "$name.$tool" "$CKPT_BIN/ckpt_restart" --verify "$@" ;;
      info) per_image=1 run_tool "$name.$tool" "$CKPT_BIN/ckpt_info" --verify "$@" ;;
    esac
    line=$(head -n 1 "$H_TMP/$name.$tool.err" | sed -E 's/^ckpt_(restart|info): //')
    if [ -z "$problem" ] && ! grep -qE "$regex" <<<"$line"; then
      problem="the message does not say what is wrong (expected /$regex/)"
    elif [ -z "$problem" ] && [ -n "$first" ] && [ "$line" != "$first" ]; then
      problem="not refused as ckpt_restart refused it ($first)"
    fi
    [ -n "$first" ] || first=$line
    if [ -n "$problem" ]; then
      echo "FAIL $name ($tool): $problem; stderr:" >&2
      sed 's/^/    /' "$H_TMP/$name.$tool.err" >&2
      failures=$((failures + 1))
    else
      echo "ok   $name ($tool): $(head -n 1 "$H_TMP/$name.$tool.err")"
    fi
  done
}

# The issue's attack: without the checks, ckpt_restart wrote the region's
# bytes into the victim before anything ran; nothing may be created either.
victim=$H_TMP/victim
echo untouched >"$victim"
expect_refused shm-traversal "region 0x[0-9a-f]+-0x[0-9a-f]+ /dev/shm/\.\./\.\..*/victim: its path is not an absolute path" \
  "$(craft shm-traversal "shm-path=/dev/shm/../..$victim")" "$B"
[ "$(cat "$victim")" = untouched ] || h_fail "the victim file was overwritten: $(head -c 200 "$victim" | od -c | head -3)"
expect_refused shm-traversal-new "its path is not an absolute path" \
  "$(craft shm-traversal-new "shm-path=/dev/shm/../..$H_TMP/created")" "$B"
[ ! -e "$H_TMP/created" ] || h_fail "a refused restart created $H_TMP/created"

expect_refused kernel-address "region 0xffff800000000000-0xffff800000001000: lies outside user space" \
  "$(craft kernel-address add-region=ffff800000000000-ffff800000001000)" "$B"
expect_refused non-canonical "region 0x800000000000-0x800000001000: lies outside user space" \
  "$(craft non-canonical add-region=800000000000-800000001000)" "$B"
expect_refused null-page "region 0x0-0x1000 lies below vm.mmap_min_addr" \
  "$(craft null-page add-region=0-1000)" "$B"
expect_refused many-threads "counts 11[0-9]{2} threads, more than the 1024 a process can have" \
  "$(craft many-threads extra-threads=1100)" "$B"
expect_refused dup-thread "has two records of thread [0-9]+" "$(craft dup-thread dup-thread)" "$B"
expect_refused two-leaders "has two leader threads" "$(craft two-leaders second-leader)" "$B"

# An image owned by another user than the one it records.
if [ "$(id -u)" -eq 0 ]; then
  owned=$(craft owned-by-other)
  chown 65534:65534 "$owned"
else
  owned=$(craft owned-by-other uid=0)
fi
expect_refused owned-by-other "owned by uid [0-9]+, but it records uid [0-9]+ \(an image must belong to the user it records, or to root\)" \
  "$owned" "$B"

# A user restarting root's computation (root-owned images, readable by all).
if [ "$(id -u)" -eq 0 ] && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$CKPT_BIN/ckpt_restart"; then
  shared=$H_TMP/shared
  mkdir -m 0755 "$shared"
  chmod 0711 "$H_TMP"
  cp "$A" "$B" "$shared/"
  chmod 0644 "$shared"/*
  runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  expect_refused other-user "records uid 0: uid 65534 cannot restart another user's processes \(only root can\)" \
    "$shared/$(basename "$A")" "$shared/$(basename "$B")"
  runner=()
else
  echo "skip other-user: needs root, and the build tree readable by uid 65534"
fi

expect_refused partial "the images are 1 of the 2 processes of checkpoint 1: 1 missing \(not given: .*/ckpt_it_threads_queue_.*_g1\.ckpt\)" "$A"
foreign=$H_TMP/craft/foreign
mkdir -p "$foreign"
cp "$B" "$foreign/$(basename "$A")"
expect_refused foreign "records program it_threads_queue \(id [^,]+, generation 1\), whose image is named ckpt_it_threads_queue_.*: a foreign image under this name" \
  "$foreign/$(basename "$A")" "$B"
[ "$failures" -eq 0 ] || h_fail "$failures crafted image(s) not refused as they should be"

# Positive control: the intact set passes both checks (with no process
# made), then restarts, and both programs finish as uninterrupted.
"$H_PROGRAMS/it_no_fork" "$CKPT_BIN/ckpt_restart" --verify "$A" "$B" >"$H_TMP/verify.out" 2>"$H_TMP/verify.err" ||
  h_fail "ckpt_restart --verify refused the intact images: $(cat "$H_TMP/verify.err")"
h_log "$(cat "$H_TMP/verify.out")"
"$CKPT_BIN/ckpt_info" --verify "$A" "$B" >/dev/null 2>"$H_TMP/info.err" ||
  h_fail "ckpt_info --verify refused the intact images: $(cat "$H_TMP/info.err")"
out=$H_TMP/restart.out
: >"$out"
h_restart "$out"
h_wait_app_exit
h_compare_programs "$out" "$H_TMP/a.expected" "$H_TMP/b.expected"
echo PASS
