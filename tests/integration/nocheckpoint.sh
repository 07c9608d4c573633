#!/bin/bash
# nocheckpoint.sh: ckpt_nocheckpoint runs a program outside the computation
# it is started from (issue 12): no libckpt.so in it, no CKPT_* variables, not
# in the coordinator's list, and checkpoints go on without it. A program
# that merely drops libckpt from LD_PRELOAD before an exec is still put back
# under control. The program gets LD_PRELOAD as the user gave it to
# ckpt_launch, not one the computation set since (as dmtcp_nocheckpoint).
# Also: usage errors and a missing program.
. "$(dirname "$0")/harness.sh"
h_init
h_start_coordinator
script=$H_TMP/job.sh
cp "$(command -v sleep)" "$H_TMP/outside_sleeper"
cat >"$script" <<SH
#!/bin/bash
for i in 1 2 3 4 5; do echo "step \$i"; sleep 0.2; done
echo "inside: \$(grep -c libckpt /proc/self/maps) libckpt mappings"
"$CKPT_BIN/ckpt_nocheckpoint" sh -c 'echo "outside: \$(grep -c libckpt /proc/self/maps) libckpt mappings, \$(env | grep -c ^CKPT_) CKPT variables, LD_PRELOAD=\${LD_PRELOAD:-unset}"'
env LD_PRELOAD= sh -c 'echo "dropped LD_PRELOAD: \$(grep -c libckpt /proc/self/maps) libckpt mappings"'
LD_PRELOAD=libc.so.6 "$CKPT_BIN/ckpt_nocheckpoint" sh -c 'echo "preloaded since launch: LD_PRELOAD=\${LD_PRELOAD:-unset}"'
"$CKPT_BIN/ckpt_nocheckpoint" "$H_TMP/outside_sleeper" 3 &
echo "step 6"
sleep 1
echo "step 7"
wait
echo "step 8"
SH
chmod +x "$script"
h_launch "$H_TMP/app.out" -- "$script"
h_wait_step "$H_TMP/app.out" 6
sleep 0.3
list=$(h_command --list) || h_fail "ckpt_command --list failed"
pgrep -f outside_sleeper >/dev/null || h_fail "the program run by ckpt_nocheckpoint is not running"
grep -q "outside_sl\|ckpt_nocheckpoi" <<<"$list" && h_fail "a program run by ckpt_nocheckpoint joined the computation: $list"
h_checkpoint
h_wait_app_exit
out=$(cat "$H_TMP/app.out")
grep -qx "inside: [1-9][0-9]* libckpt mappings" <<<"$out" || h_fail "the job itself is not under ckpt: $out"
grep -qx "outside: 0 libckpt mappings, 0 CKPT variables, LD_PRELOAD=unset" <<<"$out" ||
  h_fail "ckpt_nocheckpoint's program was not outside: $out"
grep -qx "dropped LD_PRELOAD: [1-9][0-9]* libckpt mappings" <<<"$out" ||
  h_fail "a program that dropped LD_PRELOAD left the computation: $out"
grep -qx "preloaded since launch: LD_PRELOAD=unset" <<<"$out" ||
  h_fail "ckpt_nocheckpoint passed on a preload set after the launch: $out"

# A preload the user gave ckpt_launch is what the program outside gets, even
# when the computation dropped it meanwhile.
cat >"$H_TMP/job2.sh" <<SH
#!/bin/bash
echo "member: \$(grep -c libckpt /proc/self/maps) libckpt mappings"
LD_PRELOAD= "$CKPT_BIN/ckpt_nocheckpoint" sh -c 'echo "launch-time preload: LD_PRELOAD=\${LD_PRELOAD:-unset}"'
SH
chmod +x "$H_TMP/job2.sh"
LD_PRELOAD=libc.so.6 h_launch "$H_TMP/app2.out" -- "$H_TMP/job2.sh"
h_wait_app_exit
out=$(cat "$H_TMP/app2.out")
grep -qx "member: [1-9][0-9]* libckpt mappings" <<<"$out" || h_fail "the second job is not under ckpt: $out"
grep -qx "launch-time preload: LD_PRELOAD=libc.so.6" <<<"$out" ||
  h_fail "ckpt_nocheckpoint did not give back the preload given to ckpt_launch: $out"

status=0
"$CKPT_BIN/ckpt_nocheckpoint" 2>"$H_TMP/err" || status=$?
[ "$status" -eq 127 ] && grep -qx "ckpt_nocheckpoint: missing program to run (try --help)" "$H_TMP/err" ||
  h_fail "no program: status $status, $(cat "$H_TMP/err")"
status=0
"$CKPT_BIN/ckpt_nocheckpoint" no-such-program-here 2>"$H_TMP/err" || status=$?
[ "$status" -eq 127 ] || h_fail "a missing program gave status $status: $(cat "$H_TMP/err")"
status=0
"$CKPT_BIN/ckpt_nocheckpoint" --frob 2>"$H_TMP/err" || status=$?
[ "$status" -eq 2 ] || h_fail "a bad option gave status $status: $(cat "$H_TMP/err")"
"$CKPT_BIN/ckpt_nocheckpoint" sh -c 'exit 7' || status=$?
[ "$status" -eq 7 ] || h_fail "the program's own status was not passed on ($status)"
echo PASS
