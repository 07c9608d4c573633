/* The pids a parent and its child see stay valid across restarts.
 *
 * usage: tree_pid_virtual [STEPS=40] [STEP_MS=100]
 *
 * The parent forks a child that answers every SIGUSR1 with a report through
 * a pipe: how many SIGUSR1s it got, its getpid() and its getppid(). Every
 * step the parent sends kill(child, SIGUSR1), reads the report, checks the
 * child's getpid() is what fork() returned and its getppid() is the parent's
 * getpid(), and opens
 * /proc/<child>/status and /proc/<own pid>/status with the pids it knows.
 * At the end it asks the child to exit (status 23), waits for it with
 * waitpid(child), which must return the child's pid, and checks the si_pid
 * of the SIGCHLD it got. Prints only yes/no results, never pids.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

struct report {
  int usr1_count;
  pid_t pid;   // the child's getpid()
  pid_t ppid;  // the child's getppid()
};

static volatile sig_atomic_t usr1_count;
static volatile sig_atomic_t sigchld_pid;

static void on_usr1(int sig) {
  (void)sig;
  usr1_count++;
}

static void on_chld(int sig, siginfo_t *info, void *uc) {
  (void)sig;
  (void)uc;
  sigchld_pid = info->si_pid;
}

/* The child: SIGUSR1 is blocked except inside sigsuspend, so each one is
 * answered exactly once. A byte from the parent (or EOF) ends it. */
static int child(int commands, int reports) {
  int answered = 0;
  sigset_t usr1, waitmask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &waitmask);
  sigdelset(&waitmask, SIGUSR1);
  fcntl(commands, F_SETFL, O_NONBLOCK);
  for (;;) {
    while (usr1_count == answered) {
      char c;
      ssize_t n = read(commands, &c, 1);
      if (n == 1 || n == 0) return 23;
      sigsuspend(&waitmask);
    }
    answered = usr1_count;
    struct report r = {answered, getpid(), getppid()};
    if (write(reports, &r, sizeof r) != (ssize_t)sizeof r) return 1;
  }
}

static int proc_status_opens(pid_t pid, char *name, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[256];
  name[0] = 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Name:", 5) == 0) {
      snprintf(name, size, "%s", line + 5 + strspn(line + 5, " \t"));
      name[strcspn(name, "\n")] = 0;
      break;
    }
  fclose(f);
  return 1;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
  int step_ms = argc > 2 ? atoi(argv[2]) : 100;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) != 0) die("sigaction SIGUSR1");
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGCHLD, &sa, NULL) != 0) die("sigaction SIGCHLD");

  int commands[2], reports[2];
  if (pipe(commands) != 0 || pipe(reports) != 0) die("pipe");
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(commands[1]);
    close(reports[0]);
    _exit(child(commands[0], reports[1]));
  }
  close(commands[0]);
  close(reports[1]);

  int problems = 0;
  for (int step = 1; step <= steps; step++) {
    if (kill(pid, SIGUSR1) != 0) {
      printf("step %d: kill(child, SIGUSR1) failed: %s\n", step, strerror(errno));
      return 1;
    }
    struct report r;
    if (read_full(reports[0], &r, sizeof r) != (ssize_t)sizeof r) {
      printf("step %d: no report from the child\n", step);
      return 1;
    }
    char child_name[64], own_name[64];
    int child_opens = proc_status_opens(pid, child_name, sizeof child_name);
    int own_opens = proc_status_opens(getpid(), own_name, sizeof own_name);
    int same_name = child_opens && own_opens && strcmp(child_name, own_name) == 0;
    int pid_ok = r.pid == pid, ppid_ok = r.ppid == parent && getpid() == parent;
    int ok = r.usr1_count == step && pid_ok && ppid_ok && child_opens && own_opens && same_name;
    printf("step %d: SIGUSR1 %d reached the child; child getpid %s, getppid %s; "
           "/proc/<child>/status %s, /proc/<self>/status %s%s\n",
           step, r.usr1_count, pid_ok ? "ok" : "WRONG", ppid_ok ? "ok" : "WRONG",
           child_opens ? "opens" : "DOES NOT OPEN", own_opens ? "opens" : "DOES NOT OPEN",
           same_name || !child_opens || !own_opens ? "" : " (but names another program)");
    fflush(stdout);
    if (!ok) problems++;
    sleep_ms(step_ms);
  }

  /* The byte asks the child to exit; the signal wakes it up to read it. */
  if (write(commands[1], "q", 1) != 1) die("write");
  if (kill(pid, SIGUSR1) != 0) die("kill");
  int status = 0;
  pid_t got;
  while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (got < 0) die("waitpid");
  for (int i = 0; i < 100 && sigchld_pid == 0; i++) sleep_ms(10);
  int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  printf("waitpid(child) returned the child's pid: %s, exit status %d\n", got == pid ? "yes" : "no", exit_code);
  printf("SIGCHLD si_pid is the child's pid: %s\n", sigchld_pid == pid ? "yes" : "no");
  if (got != pid || exit_code != 23 || sigchld_pid != pid) problems++;
  printf("done: %d steps, %d problems\n", steps, problems);
  return problems ? 1 : 0;
}
