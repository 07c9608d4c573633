#!/usr/bin/env python3
"""A pty master whose slave no process holds any more, with the slave's
output unread: a child wrote to the slave and exited, and the parent closed
its own slave descriptor. Checkpoints come while the parent waits; then it
reads the master: the child's lines (as output processing made them, "\\r\\n")
and then EIO, as an uninterrupted run does.

usage: pty_closed.py STEPS
"""
import os
import sys
import time


def main():
    steps = int(sys.argv[1])
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        for i in range(20):
            os.write(slave, f"child line {i}\n".encode())
        os._exit(0)
    os.close(slave)
    os.waitpid(pid, 0)
    for n in range(1, steps + 1):
        print(f"step {n}", flush=True)
        time.sleep(0.5)
    data = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError as e:
            print(f"read: {os.strerror(e.errno)}")
            break
        if not chunk:
            print("read: end of file")
            break
        data += chunk
    print(repr(data.decode()))
    print("done", flush=True)


if __name__ == "__main__":
    main()
