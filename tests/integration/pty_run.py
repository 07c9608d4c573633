#!/usr/bin/env python3
"""Runs a command on a terminal of its own, as a user at a terminal would.

usage: pty_run.py [--job-control] INPUT OUTPUT -- CMD...

A session leader (this script's child, quiet like an interactive shell)
opens a fresh pty as its controlling terminal and runs CMD on it (stdin,
stdout and stderr). With --job-control CMD gets a process group of its own
and the terminal's foreground, as a job-control shell does; without, it stays
in the leader's group. Whatever CMD writes to the terminal is appended to
OUTPUT as it comes; whatever the test appends to INPUT is typed into the
terminal. Echo and output processing are off, so OUTPUT holds the program's
bytes only. Exits with CMD's status (128+N if signal N killed it) once CMD has
exited and the terminal is drained.
"""
import fcntl
import os
import select
import signal
import sys
import termios


def exit_code(status):
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def run_on_terminal(slave, cmd, job_control):
    """In the child: lead a session on the terminal, run CMD, exit as it did."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    pid = os.fork()
    if pid == 0:
        if job_control:
            os.setpgid(0, 0)
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            os.tcsetpgrp(slave, os.getpgrp())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        for fd in range(3):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(slave)
    _, status = os.waitpid(pid, 0)
    os._exit(exit_code(status))


def main():
    args = sys.argv[1:]
    job_control = bool(args) and args[0] == "--job-control"
    if job_control:
        args = args[1:]
    if len(args) < 4 or args[2] != "--":
        sys.exit("usage: pty_run.py [--job-control] INPUT OUTPUT -- CMD...")
    input_path, output_path, cmd = args[0], args[1], args[3:]
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST  # oflag: "\n" stays "\n"
    attrs[3] &= ~(termios.ECHO | termios.ECHONL)  # lflag: typed lines are not echoed
    termios.tcsetattr(slave, termios.TCSANOW, attrs)

    pid = os.fork()
    if pid == 0:
        os.close(master)
        try:
            run_on_terminal(slave, cmd, job_control)
        finally:
            os._exit(126)  # run_on_terminal raised
    os.close(slave)

    sent = 0
    status = None
    with open(output_path, "ab", buffering=0) as out:
        while True:
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: nobody holds the terminal any more
                    data = b""
                if data:
                    out.write(data)
                elif status is not None:
                    break
            elif status is not None:
                break
            try:
                with open(input_path, "rb") as f:
                    f.seek(sent)
                    typed = f.read()
            except FileNotFoundError:
                typed = b""
            if typed:
                os.write(master, typed)
                sent += len(typed)
            if status is None:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done == pid:
                    status = st
    sys.exit(exit_code(status))

if __name__ == "__main__":
    main()
