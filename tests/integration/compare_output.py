#!/usr/bin/env python3
"""Compares a checkpointed-and-restarted run's output with an uninterrupted run's.

usage: compare_output.py EXPECTED ACTUAL [OFFSET...]

OFFSETs are the sizes ACTUAL had when each restart began (the harness appends
the restarted run's output to the same file).

Passes when ACTUAL is byte-for-byte EXPECTED. That is the case when the restored
process writes to its restored stdout at the offset saved in the image:
whatever the killed process printed after the checkpoint is overwritten with
the same bytes.

Also passes when the restarted runs' output was appended instead, which
repeats the lines printed between a checkpoint and the kill. Then ACTUAL, cut
at the OFFSETs, must be: a prefix of EXPECTED, followed by one slice of
EXPECTED per restart that starts strictly after EXPECTED's first line (the
process resumed, it did not start over), at or before the point the previous
part had reached (nothing missing), and the last slice ends exactly where
EXPECTED ends. Every repeated line must equal the original: the programs are
deterministic, so the restored process must print what it printed before.
"""
import difflib
import sys


def lines_of(data):
    return data.decode(errors="replace").splitlines(keepends=True)


def find_resume(expected, segment, lo, hi):
    """Smallest start in [lo, hi] such that segment == expected[start:start+len]."""
    n = len(segment)
    for start in range(lo, hi + 1):
        if expected[start:start + n] == segment:
            return start
    return None


def check_segments(expected, actual_bytes, offsets):
    cuts = [0] + offsets + [len(actual_bytes)]
    segments = [lines_of(actual_bytes[a:b]) for a, b in zip(cuts, cuts[1:])]
    first = segments[0]
    if expected[:len(first)] != first:
        return "the output before the first restart is not a prefix of the uninterrupted run's"
    reached = len(first)
    for i, seg in enumerate(segments[1:], start=1):
        if not seg:
            return f"restart {i} printed nothing"
        start = find_resume(expected, seg, 1, reached)
        if start is None:
            return (f"the output of restart {i} (from byte {cuts[i]}, starting {seg[0].rstrip()!r}) "
                    f"does not continue the uninterrupted run at or before line {reached + 1}")
        reached = start + len(seg)
    if reached != len(expected):
        return f"the output stops at line {reached} of {len(expected)}"
    return None


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        expected_bytes = f.read()
    with open(sys.argv[2], "rb") as f:
        actual_bytes = f.read()
    offsets = [int(x) for x in sys.argv[3:]]
    if actual_bytes == expected_bytes:
        return 0
    expected = lines_of(expected_bytes)
    problem = check_segments(expected, actual_bytes, offsets) if offsets else "output differs"
    if problem is None:
        return 0
    print(f"MISMATCH: {problem}", file=sys.stderr)
    if offsets:
        print(f"(restarts began at byte offsets {', '.join(map(str, offsets))} of the actual output)",
              file=sys.stderr)
    diff = list(difflib.unified_diff(expected, lines_of(actual_bytes), "uninterrupted", "checkpointed+restarted"))
    shown = diff[:120]
    sys.stderr.writelines(line if line.endswith("\n") else line + "\n" for line in shown)
    if len(diff) > len(shown):
        print(f"... {len(diff) - len(shown)} more diff lines", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
