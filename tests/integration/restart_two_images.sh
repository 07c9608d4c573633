#!/bin/bash
# restart_two_images.sh: one checkpoint of two processes (two programs that
# joined one coordinator), restarted by one command from both images. Neither
# is the other's parent, so ckpt_restart forks both: the earlier one is the
# root (its exit status is ckpt_restart's), the other an orphan it reaps. Both
# finish with their uninterrupted runs' results, and the restored pair can be
# checkpointed again.
. "$(dirname "$0")/harness.sh"
h_init
a=("$H_PROGRAMS/it_heap_churn" 8 40 80)
b=("$H_PROGRAMS/it_heap_churn" 16 30 50)
h_reference "$H_TMP/a.expected" "${a[@]}"
h_reference "$H_TMP/b.expected" "${b[@]}"
h_start_coordinator
h_launch "$H_TMP/a.out" -- "${a[@]}"
pid_a=$H_APP_PID
H_EXTRA_PIDS+=("$pid_a")
h_wait_step "$H_TMP/a.out" 2
h_launch "$H_TMP/b.out" -- "${b[@]}"
pid_b=$H_APP_PID
h_wait_step "$H_TMP/b.out" 3
h_checkpoint
images=$(grep -c "\.ckpt" "$H_CKPTDIR/ckpt_restart_script.sh")
[ "$images" -eq 2 ] || h_fail "the restart script names $images images, not 2"
h_command --kill >>"$H_TMP/command.log" 2>&1 || h_fail "ckpt_command --kill failed"
h_wait_exit "$pid_a" && h_wait_exit "$pid_b" || h_fail "launched processes still alive after --kill"

out=$H_TMP/restart.out
: >"$out"
h_restart "$out"
h_wait_step "$out" 1
# Both rejoined: a checkpoint of the restored computation writes two images.
h_checkpoint
grep -q "2 images" "$H_TMP/command.log" || h_fail "second checkpoint: $(cat "$H_TMP/command.log")"
h_wait_app_exit
# The orphan may outlive the root by a moment.
deadline=$((SECONDS + H_WAIT))
until [ "$(grep -c '^done:' "$out")" -ge 2 ]; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "restarted output has $(grep -c '^done:' "$out") final lines, not 2"
  sleep 0.1
done
for x in a b; do
  grep -qxF "$(tail -1 "$H_TMP/$x.expected")" "$out" || h_fail "program $x's final line is missing after restart"
done
# Every restarted line is one the uninterrupted runs printed.
stray=$(grep -vxFf <(cat "$H_TMP/a.expected" "$H_TMP/b.expected") "$out" | head -3)
[ -z "$stray" ] || h_fail "restarted output has lines no uninterrupted run printed: $stray"
echo "PASS"
