#!/usr/bin/env python3
"""From step OPEN_AT on, holds a pty master whose slave nobody ever opened
(still locked, as posix_openpt leaves it), with bytes written to it for the
slave: ckpt cannot tell such a slave from one a process outside the
computation holds, nor read what waits for it, so a checkpoint then must
fail and say so.

usage: pty_unopened.py STEPS OPEN_AT
"""
import os
import sys
import time


def main():
    steps, open_at = int(sys.argv[1]), int(sys.argv[2])
    master = None
    for n in range(1, steps + 1):
        if n == open_at:
            master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
            os.write(master, b"for nobody\n")
        print(f"step {n}", flush=True)
        time.sleep(0.3)
    print("holding a master" if master is not None else "no master", flush=True)


if __name__ == "__main__":
    main()
