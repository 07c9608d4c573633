#!/bin/bash
# quit_unjoined.sh: ckpt_command --quit leaves no process of the computation
# running. A shell starts a background sleep every few milliseconds, so that
# some of its children are always younger than the 50 ms after which a fork
# child joins the coordinator; --quit kills the joined processes at once, and
# each of those kills the ones on its host that have not joined yet.
. "$(dirname "$0")/harness.sh"
h_init
marker="1000.$$"
h_start_coordinator
h_launch "$H_TMP/app.out" -- bash -c "while :; do sleep $marker & sleep 0.003; done"
sleep 1
survivors() { pgrep -f "^sleep $marker\$" | wc -l; }
[ "$(survivors)" -gt 0 ] || h_fail "the shell started no sleep"
h_command --quit >"$H_TMP/quit.out" || h_fail "ckpt_command --quit failed: $(cat "$H_TMP/quit.out")"
h_wait_exit "$H_APP_PID" 10 || h_fail "the shell was not killed"
for _ in $(seq 50); do
  [ "$(survivors)" -eq 0 ] && break
  sleep 0.1
done
left=$(survivors)
if [ "$left" -ne 0 ]; then
  pkill -KILL -f "^sleep $marker\$"
  h_fail "$left process(es) of the computation outlived --quit"
fi
h_log "$(cat "$H_TMP/quit.out"), none left"
echo PASS
