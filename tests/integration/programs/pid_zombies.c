/* pid_zombies GO_FILE: a parent with two unreaped children (one exited with
 * status 5, one killed by SIGKILL) and a live child leading its own process
 * group. It prints what section "pid" of each image must say ("process VPID
 * VPPID VPGID VSID", "table PATH", "zombie VPID WAIT_STATUS VPGID"), then
 * "ready", waits for GO_FILE to appear (the test checkpoints meanwhile),
 * reaps everyone, checks the statuses and prints "done". */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void wait_for_file(const char* path) {
  while (access(path, F_OK) != 0) usleep(10000);
}

static void await_zombie(pid_t child) {
  siginfo_t si;
  si.si_pid = 0;
  waitid(P_PID, child, &si, WEXITED | WNOWAIT);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* go = argv[1];
  pid_t self = getpid(), group = getpgrp(), session = getsid(0);
  printf("table %s\n", getenv("CKPT_PIDTABLE"));
  printf("process %d %d %d %d\n", self, getppid(), group, session);

  pid_t exited = fork();
  if (exited == 0) _exit(5);
  pid_t killed = fork();
  if (killed == 0) {
    pause();
    _exit(0);
  }
  kill(killed, SIGKILL);
  await_zombie(exited);
  await_zombie(killed);
  printf("zombie %d %d %d\n", exited, 5 << 8, group);
  printf("zombie %d %d %d\n", killed, SIGKILL, group);

  int ready[2];
  if (pipe(ready) != 0) return 2;
  pid_t leader = fork();
  if (leader == 0) {
    setpgid(0, 0);
    if (write(ready[1], "x", 1) != 1) _exit(2);
    wait_for_file(go);
    _exit(0);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return 2;
  printf("table %s\n", getenv("CKPT_PIDTABLE"));
  printf("process %d %d %d %d\n", leader, self, leader, session);
  printf("ready\n");
  fflush(stdout);

  wait_for_file(go);
  int status;
  int ok = waitpid(exited, &status, 0) == exited && WIFEXITED(status) && WEXITSTATUS(status) == 5;
  ok &= waitpid(killed, &status, 0) == killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  ok &= waitpid(leader, &status, 0) == leader && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  printf(ok ? "done\n" : "FAIL reaping\n");
  return ok ? 0 : 1;
}
