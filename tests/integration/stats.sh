#!/bin/bash
# stats.sh [LAUNCH_OPTION...]
# The figures of a checkpoint and a restart (issue 11) agree with the memory
# of it_known_memory: 8 MiB of random bytes and 8 MiB of text (written),
# 16 MiB of zeroed pages (skipped as zero), a 1 GiB reservation never
# touched (skipped as untouched). ckpt_command --checkpoint prints them on
# its summary line and all of them with --json; ckpt_info shows the image's
# "stats" section with the same counts; after a restart, ckpt_command
# --status --json says how long it took to run again (and whether memory
# came in after it ran: a lazy restart). No figure is compared
# with a time limit: only with each other. The final output must match the
# uninterrupted run's.
. "$(dirname "$0")/harness.sh"
h_init
compressed=1
for opt in "$@"; do [ "$opt" = --no-compress ] && compressed=0; done
prog=("$H_PROGRAMS/it_known_memory" 8 8 16 1024 60 100)
h_reference "$H_TMP/expected.out" "${prog[@]}"
h_start_coordinator
out=$H_TMP/actual.out
# Full images: the counts below are those of the whole memory (an
# incremental image counts what it inherits as unchanged).
h_launch "$out" --no-incremental "$@" -- "${prog[@]}"
h_wait_step "$out" 3

h_checkpoint
line=$(head -n 1 "$H_TMP/command.log")
for part in "^checkpoint 1 written: 1 image, " "; pause [0-9.]* ms; freeze [0-9.]* ms; pages [0-9]* scanned, " \
            " written, [0-9]* skipped (untouched [0-9]*, zero [0-9]*, file [0-9]*, unchanged 0); " \
            " raw, .* stored; write [0-9.]* ms; sync [0-9.]* ms$"; do
  grep -q -- "$part" <<<"$line" || h_fail "summary line lacks '$part': $line"
done

h_wait_step "$out" 6
h_command --checkpoint --json >"$H_TMP/checkpoint.json" || h_fail "ckpt_command --checkpoint --json failed"
image=$(ls "$H_CKPTDIR"/ckpt_it_known_memory_*_g2.ckpt) || h_fail "no image of generation 2"
"$CKPT_BIN/ckpt_info" --json "$image" >"$H_TMP/info.json" || h_fail "ckpt_info --json cannot read $image"
"$CKPT_BIN/ckpt_info" "$image" >"$H_TMP/info.txt" || h_fail "ckpt_info cannot read $image"
grep -q "^  stats (" "$H_TMP/info.txt" || h_fail "ckpt_info's summary shows no stats section"
grep -q "pages_written [0-9]" "$H_TMP/info.txt" || h_fail "ckpt_info's summary does not decode the stats section"
python3 - "$H_TMP/checkpoint.json" "$H_TMP/info.json" "$compressed" <<'PY' || h_fail "the figures do not agree (see above)"
import json, sys
reply, info, compressed = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3] == "1"
info = info[0] if isinstance(info, list) else info
st = reply["stats"]
t = st["totals"]
assert len(st["processes"]) == 1 and t["processes_reporting"] == 1, st
p = st["processes"][0]
MiB = 256  # pages
skipped = ["pages_skipped_untouched", "pages_skipped_zero", "pages_skipped_file", "pages_skipped_unchanged"]
assert p["pages_written"] + sum(p[k] for k in skipped) == p["pages_scanned"], p
assert p["pages_skipped_unchanged"] == 0, p
# Random and text pages are written; the rest of the process (libraries'
# written pages, stacks, heap, libckpt's own) adds a little.
assert 16 * MiB <= p["pages_written"] <= 16 * MiB + 4 * MiB, p
assert p["pages_skipped_zero"] >= 16 * MiB, p
assert p["pages_skipped_untouched"] >= 1024 * MiB, p
assert p["bytes_raw"] == 4096 * p["pages_written"], p
if compressed:
    # The random 8 MiB stay as they are; the text shrinks.
    assert 8 * MiB * 4096 <= p["bytes_compressed"] < p["bytes_raw"], p
else:
    # The raw bytes in chunks, each behind a 16-byte header (format 5):
    # what the image's region blobs hold.
    assert p["bytes_raw"] < p["bytes_compressed"] == sum(r["data_size"] for r in info["regions"]), p
for k in ["pages_scanned", "pages_written", "bytes_raw", "bytes_compressed"] + skipped:
    assert t[k] == p[k], (k, t[k], p[k])
# Times: never negative, and each part within the whole (ms are rounded down
# in duration_ms: one ms of slack).
total = reply["duration_ms"] + 1
for k, v in [("freeze_ms", st["freeze_ms"]), ("pause_ms", st["pause_ms"]), ("write_ms", p["write_ms"]),
             ("sync_ms", p["sync_ms"])]:
    assert isinstance(v, (int, float)) and 0 <= v <= total, (k, v, total)
assert p["write_ms"] + p["sync_ms"] <= total, p
assert st["pause_ms"] == p["pause_ms"] and t["write_ms"] == p["write_ms"], st
assert p["image"] == info["image"], (p["image"], info["image"])
# The image holds the same counts in its "stats" section.
sections = [s for s in info["sections"] if s["name"] == "stats"]
assert len(sections) == 1 and "content" in sections[0], info["sections"]
c = sections[0]["content"]
for k in ["pages_scanned", "pages_written", "bytes_raw", "bytes_compressed"] + skipped:
    assert c[k] == p[k], (k, c[k], p[k])
assert c["write_ms"] == p["write_ms"], (c, p)
PY
h_log "checkpoint figures agree"

h_command --status --json >"$H_TMP/status.json" || h_fail "ckpt_command --status --json failed"
python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["last_checkpoint"]["stats"]; assert s["totals"]["pages_written"] > 0, s' \
  "$H_TMP/status.json" || h_fail "--status --json lacks the last checkpoint's figures: $(cat "$H_TMP/status.json")"
h_command --status >"$H_TMP/status.txt" || h_fail "ckpt_command --status failed"
grep -q "^figures: *pause [0-9.]* ms; freeze" "$H_TMP/status.txt" ||
  h_fail "--status does not show the last checkpoint's figures: $(cat "$H_TMP/status.txt")"

h_kill_app
CKPT_LOG=info h_restart "$out"
deadline=$((SECONDS + H_WAIT))
until h_command --status --json >"$H_TMP/status.json" &&
      python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["restarts_finished"] < 1)' "$H_TMP/status.json"; do
  [ "$SECONDS" -lt "$deadline" ] || h_fail "the restart did not finish within ${H_WAIT} s: $(cat "$H_TMP/status.json")"
  sleep 0.1
done
# Pages come in on first touch on a lazy restart, compressed images or not
# (unless ckpt_restart said it could not be: at CKPT_LOG=info, set for the
# restart above).
lazy=1
grep -q "lazy restart unavailable" "$H_TMP/restart.err" && lazy=0
python3 - "$H_TMP/status.json" "$lazy" <<'PY' || h_fail "the restart's figures are wrong: $(cat "$H_TMP/status.json")"
import json, sys
r, lazy = json.load(open(sys.argv[1]))["last_restart"], sys.argv[2] == "1"
assert r["ok"] and r["generation"] == 2, r
assert isinstance(r["running_ms"], (int, float)) and r["running_ms"] >= 0, r
assert r["lazy"] == lazy, r
assert r["loaded_ms"] == (None if r["lazy"] else r["running_ms"]), r
PY
h_command --status >"$H_TMP/status.txt" || h_fail "ckpt_command --status failed"
grep -q "^last restart: *generation 2, 1 process, running [0-9.]* ms after ckpt_restart started" "$H_TMP/status.txt" ||
  h_fail "--status does not say how long the restart took: $(cat "$H_TMP/status.txt")"
grep -q "restart of generation 2 complete: 1 process running; running [0-9.]* ms after ckpt_restart started" \
  "$H_TMP/coordinator.log" || h_fail "the coordinator's log does not say how long the restart took"
h_wait_app_exit
h_compare "$H_TMP/expected.out" "$out"
echo "PASS"
