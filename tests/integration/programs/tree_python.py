"""A Python job that makes processes both ways: subprocess.run and
os.fork + os.waitpid.

usage: python3 tree_python.py [STEPS=30]

Each step:
- runs `sort -n` through subprocess.run on the step's numbers (input and
  output through pipes) and `sh -c 'exit N'` for a known return code;
- forks a child that computes a sum slowly (so checkpoints often land while
  it is alive), sends it through a pipe and exits with a status of its own;
  the parent waits for it by pid and checks pid and status.
Prints one deterministic line per step.
"""
import os
import subprocess
import sys
import time


def child_work(step, wfd):
    total = 0
    for k in range(1, 6):
        total += sum(i * step for i in range(k * 1000))
        time.sleep(0.03)
    os.write(wfd, f"{total}\n".encode())
    os.close(wfd)
    os._exit(step % 50 + 1)


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    problems = 0
    digest = 0
    for step in range(1, steps + 1):
        numbers = [(step * 7919 + i * 104729) % 1009 for i in range(200)]
        sorted_run = subprocess.run(["sort", "-n"], input="\n".join(map(str, numbers)) + "\n",
                                    capture_output=True, text=True, check=True)
        sorted_numbers = [int(x) for x in sorted_run.stdout.split()]
        if sorted_numbers != sorted(numbers):
            print(f"step {step}: sort returned something else", flush=True)
            problems += 1
        code = subprocess.run(["sh", "-c", f"exit {step % 7}"]).returncode

        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            child_work(step, wfd)
        os.close(wfd)
        with os.fdopen(rfd) as r:
            total = int(r.read())
        wpid, status = os.waitpid(pid, 0)
        exit_code = os.waitstatus_to_exitcode(status)
        if wpid != pid or exit_code != step % 50 + 1:
            print(f"step {step}: waitpid gave {'the child' if wpid == pid else 'another pid'}, "
                  f"exit code {exit_code}", flush=True)
            problems += 1
        digest = (digest * 1000003 + total + sum(sorted_numbers[::17])) % (1 << 61)
        print(f"step {step} sort ok, sh exit {code}, child sum {total}, child exit {exit_code}", flush=True)

    print(f"done: digest {digest:x}, {problems} problems", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
