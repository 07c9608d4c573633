/* Children that are zombies at checkpoint time are reaped after the restart
 * with their original statuses.
 *
 * usage: tree_zombie [STEPS=30] [STEP_MS=100]
 *
 * Forks one child that exits with status 42 and one that is killed by
 * SIGTERM, and waits (waitid with WNOWAIT, which leaves them unreaped) until
 * both are zombies before printing "step 1". Then it prints STEPS steps
 * without reaping them; the test checkpoints, kills and restarts in between.
 * At the end it reaps each with waitpid(pid), which must return that pid with
 * the original status, and checks no other child is left (ECHILD).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

/* Blocks until the child has terminated, leaving it a zombie. */
static void wait_until_zombie(pid_t pid) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0)
    if (errno != EINTR) die("waitid WNOWAIT");
}

static void describe(const char *name, pid_t expected, pid_t got, int status, int *problems, int want_exit,
                     int want_signal) {
  if (got < 0) {
    printf("%s: waitpid failed: %s\n", name, strerror(errno));
    (*problems)++;
    return;
  }
  int ok = got == expected &&
           (want_exit >= 0 ? WIFEXITED(status) && WEXITSTATUS(status) == want_exit
                           : WIFSIGNALED(status) && WTERMSIG(status) == want_signal);
  if (WIFEXITED(status))
    printf("%s: waitpid returned its pid: %s, exited with status %d\n", name, got == expected ? "yes" : "no",
           WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("%s: waitpid returned its pid: %s, killed by signal %d\n", name, got == expected ? "yes" : "no",
           WTERMSIG(status));
  else
    printf("%s: waitpid returned its pid: %s, status 0x%x\n", name, got == expected ? "yes" : "no", status);
  if (!ok) (*problems)++;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int step_ms = argc > 2 ? atoi(argv[2]) : 100;

  pid_t exiter = fork();
  if (exiter < 0) die("fork");
  if (exiter == 0) _exit(42);
  pid_t killed = fork();
  if (killed < 0) die("fork");
  if (killed == 0) {
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    _exit(1);
  }
  wait_until_zombie(exiter);
  wait_until_zombie(killed);
  printf("two zombie children\n");
  fflush(stdout);

  for (int step = 1; step <= steps; step++) {
    printf("step %d\n", step);
    fflush(stdout);
    sleep_ms(step_ms);
  }

  int problems = 0, status = 0;
  pid_t got;
  while ((got = waitpid(exiter, &status, 0)) < 0 && errno == EINTR) {
  }
  describe("exiting child", exiter, got, status, &problems, 42, 0);
  while ((got = waitpid(killed, &status, 0)) < 0 && errno == EINTR) {
  }
  describe("killed child", killed, got, status, &problems, -1, SIGTERM);
  got = waitpid(-1, &status, WNOHANG);
  int no_more = got < 0 && errno == ECHILD;
  printf("no other children: %s\n", no_more ? "yes" : "no");
  if (!no_more) problems++;
  printf("done: %d problems\n", problems);
  return problems ? 1 : 0;
}
