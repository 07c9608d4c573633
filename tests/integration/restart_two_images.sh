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
h_checkpoint_pair a b
images=$(grep -c "\.ckpt" "$H_CKPTDIR/ckpt_restart_script.sh")
[ "$images" -eq 2 ] || h_fail "the restart script names $images images, not 2"

out=$H_TMP/restart.out
: >"$out"
h_restart "$out"
h_wait_step "$out" 1
# Both rejoined: a checkpoint of the restored computation writes two images.
h_checkpoint
grep -q "2 images" "$H_TMP/command.log" || h_fail "second checkpoint: $(cat "$H_TMP/command.log")"
h_wait_app_exit
h_compare_programs "$out" "$H_TMP/a.expected" "$H_TMP/b.expected"
echo "PASS"
