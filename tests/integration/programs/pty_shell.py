#!/usr/bin/env python3
"""script -qfc 'bash -i', scripted: a parent driving an interactive bash on a
pseudo-terminal it opened (pty.fork: bash leads its own session with the
slave as controlling terminal and job control on).

usage: pty_shell.py ROUNDS NAP PAUSE [noediting|readline]

Each round N:
  1. runs a job "(echo B..; sleep NAP; read -r x; echo got ${#x})" and,
     once B.. is out, types ahead a whole line and half of another while the
     job sleeps: they wait in the slave's input queue (canonical while a job
     runs: the unfinished line must stay unfinished), their echo in the
     master's. The job reads the whole line once it wakes up, which it can
     only do as the terminal's foreground group (else SIGTTIN stops it);
     bash reads the half line;
  2. prints "step N" and reads nothing for PAUSE seconds: the checkpoint
     comes then, with bytes queued both ways and the job in the foreground;
  3. finishes the half-typed line;
  4. job control: a command that needs a controlling terminal (/dev/tty),
     a pipeline that reads the terminal (stopped by SIGTTIN if it were not
     the foreground job), and a check that the terminal's foreground group
     is the command's own; the window size the parent set and every
     setting of the terminal (stty -g) as a command sees them;
  5. prints what the terminal showed, \\r\\n made \\n.
Commands print numbers computed by the shell ($((...))), so that what they
print never matches the echo of what was typed. Any wait over 60 s fails.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time


class Terminal:
    def __init__(self, fd):
        self.fd = fd
        self.seen = bytearray()  # this round's transcript
        self.mark = 0  # where the next wait looks from

    def send(self, text):
        os.write(self.fd, text.encode())

    def read_some(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: every slave descriptor is closed
            return False
        self.seen += data
        return bool(data)

    def wait_for(self, text):
        want = text.encode()
        deadline = time.monotonic() + 60
        while want not in self.seen[self.mark:]:
            if time.monotonic() > deadline or not self.read_some(0.5):
                self.show()
                print(f"timeout waiting for {text!r}", flush=True)
                sys.exit(1)
        self.mark = self.seen.index(want, self.mark) + len(want)

    def show(self):
        for line in self.seen.replace(b"\r\n", b"\n").decode(errors="replace").split("\n"):
            print(f"  | {line}")
        sys.stdout.flush()
        self.seen.clear()
        self.mark = 0


def run_round(term, n, nap, pause):
    v = 100 + n
    typed = f"echo T$((100+{n}))"
    term.send(f"(echo B$((100+{n})); sleep {nap}; read -r x; echo \"got ${{#x}}\"); echo E$((100+{n}))\n")
    term.wait_for(f"B{v}\r\n")
    term.send(f"{typed}\necho P$((100")
    print(f"step {n}", flush=True)
    time.sleep(pause)
    term.wait_for(f"got {len(typed)}\r\n")
    term.wait_for(f"E{v}\r\n")
    term.wait_for("$ ")
    term.send(f"+{n}))\n")
    term.wait_for(f"P{v}\r\n")
    term.wait_for("$ ")
    term.send(f"sh -c 'exec </dev/tty && echo C$((100+{n}))'; head -n1 | tr h H\n")
    term.wait_for(f"C{v}\r\n")
    term.send(f"h{v}\n")
    term.wait_for(f"H{v}\r\n")
    term.wait_for("$ ")
    term.send("python3 -c 'import os; print(\"F\", os.tcgetpgrp(0) == os.getpgrp())'\n")
    term.wait_for("F True\r\n")
    term.wait_for("$ ")
    term.send("stty size; stty -g | tr : ' '\n")
    term.wait_for("33 101\r\n")
    term.wait_for("$ ")
    term.show()


def main():
    rounds, nap, pause = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "noediting"
    env = dict(os.environ, TERM="dumb", PS1="$ ", PS2="> ", HISTFILE="/dev/null", LC_ALL="C")
    for name in ("BASH_ENV", "ENV", "PROMPT_COMMAND", "INPUTRC"):
        env.pop(name, None)
    argv = ["bash", "--norc", "--noprofile"] + (["--noediting"] if mode == "noediting" else []) + ["-i"]
    pid, fd = pty.fork()
    if pid == 0:
        # Before bash runs: a SIGWINCH at its prompt would make readline redraw.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        os.execvpe("bash", argv, env)
    term = Terminal(fd)
    term.wait_for("$ ")
    term.show()
    for n in range(1, rounds + 1):
        run_round(term, n, nap, pause)
    term.send("exit\n")
    while term.read_some(60):
        pass
    _, status = os.waitpid(pid, 0)
    term.show()
    print(f"bash exited with {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    main()
