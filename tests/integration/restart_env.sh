#!/bin/bash
# restart_env.sh PROG: the environment and temporary directory of restored
# processes (README "DMTCP compatibility").
#  - ckpt_launch --tmpdir DIR: dmtcp_get_tmpdir is DIR; the logs go under it.
#  - ckpt_launch --modify-env: a restart applies the image directory's
#    dmtcp_env.txt (DMTCP's format: NAME=value, NAME to remove, # comments,
#    "quotes", $NAME), and programs started after it inherit the change.
#  - ckpt_restart --env-file FILE and --tmpdir DIR on the next restart.
#  - ckpt_restart refuses an --env-file it cannot read, before restoring.
. "$(dirname "$0")/harness.sh"
prog=$1
h_init
h_start_coordinator
out=$H_TMP/actual.out
finish=$H_TMP/finish
# The default log directory is under --tmpdir; info: every process writes one.
unset CKPT_LOG_DIR
export CKPT_LOG=info
export KEEP=kept CHANGE=before GONE=here
h_launch "$out" --tmpdir "$H_TMP/launch tmp" --modify-env -- "$prog" "$finish" CHANGE GONE ADDED KEEP
h_wait_procs 1
cat >"$H_CKPTDIR/dmtcp_env.txt" <<'END'
# DMTCP's modify-env file
CHANGE=after      # a comment after the value
GONE
ADDED="two words $KEEP"
not a line
END
h_checkpoint
h_kill_app
h_restart "$out"
h_wait_procs 1
h_checkpoint
h_kill_app
printf 'CHANGE=from-env-file\nGONE=back\n' >"$H_TMP/env-file"
h_restart "$out" --env-file "$H_TMP/env-file" --tmpdir "$H_TMP/restart-tmp"
h_wait_procs 1
deadline=$((SECONDS + H_WAIT))
until grep -q '^child: from-env-file' "$out"; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "no report of the second restart: $(cat "$out")"
  sleep 0.05
done
touch "$finish"
h_wait_app_exit
cat >"$H_TMP/expected.out" <<END
start: CHANGE=before GONE=here ADDED unset KEEP=kept tmpdir $H_TMP/launch tmp
restart 1: CHANGE=after GONE unset ADDED=two words kept KEEP=kept tmpdir $H_TMP/launch tmp
child: after
restart 2: CHANGE=from-env-file GONE=back ADDED=two words kept KEEP=kept tmpdir $H_TMP/restart-tmp
child: from-env-file
END
diff -u "$H_TMP/expected.out" "$out" || h_fail "the restored environment differs"
ls "$H_TMP/launch tmp/ckpt-$(id -u)/"*.log >/dev/null 2>&1 || h_fail "no log under the launch's --tmpdir"
ls "$H_TMP/restart-tmp/ckpt-$(id -u)/"*.log >/dev/null 2>&1 || h_fail "no log under the restart's --tmpdir"
grep -q "dmtcp_env.txt: line 5 skipped" "$H_TMP/launch tmp/ckpt-$(id -u)/"*.log ||
  h_fail "the bad line of dmtcp_env.txt was not reported in the log"
h_check_error "an --env-file that cannot be read is refused" 1 "^ckpt_restart: --env-file $H_TMP/missing: No such file" \
  "$H_CKPTDIR/ckpt_restart_script.sh" --env-file "$H_TMP/missing"
[ "${H_FAILURES:-0}" -eq 0 ] || h_fail "$H_FAILURES check(s) failed"
echo PASS
