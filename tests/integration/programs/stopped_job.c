/* A job stopped by job control (Ctrl-Z) and resumed by `fg`, as a shell
 * runs it.
 *
 * usage: stopped_job DIR [STEPS=30]
 *
 * The parent (the shell) forks the job into a process group of its own; the
 * job prints "step N" every 100 ms and, at step 5, stops itself with SIGTSTP
 * (the user's Ctrl-Z). The parent waits for it with waitpid(WUNTRACED), then
 * for the file DIR/fg (the user typing `fg`). Then it checks the job is still
 * stopped: in its own waitpid(WUNTRACED | WCONTINUED) view (the last change
 * reported, if any since) and in /proc/<pid>/stat; says so; and continues it
 * with SIGCONT. The job finishes its steps; the parent reports its exit.
 * With DIR/fg there from the start, nothing waits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

static char proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return '?';
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *close = strrchr(buf, ')');
  return close && close[1] == ' ' ? close[2] : '?';
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: stopped_job DIR [STEPS]\n");
    return 2;
  }
  const char *dir = argv[1];
  int steps = argc > 2 ? atoi(argv[2]) : 30;
  char fg[4096];
  snprintf(fg, sizeof fg, "%s/fg", dir);

  pid_t job = fork();
  if (job < 0) die("fork");
  if (job == 0) {
    if (setpgid(0, 0) != 0) die("setpgid");
    for (int step = 1; step <= steps; step++) {
      printf("step %d\n", step);
      fflush(stdout);
      if (step == 5) raise(SIGTSTP);
      sleep_ms(100);
    }
    return 0;
  }
  setpgid(job, job); /* as shells do, against the race with the child's own call */

  int status;
  for (;;) {
    if (waitpid(job, &status, WUNTRACED) != job) die("waitpid");
    if (WIFEXITED(status) || WIFSIGNALED(status)) break;
    if (!WIFSTOPPED(status)) continue;
    printf("parent: job stopped by %s\n", WSTOPSIG(status) == SIGTSTP ? "SIGTSTP" : "another signal");
    fflush(stdout);
    struct stat st;
    while (stat(fg, &st) != 0) sleep_ms(20);
    /* Whatever changed since the stop was reported: the last word counts. */
    int stopped = 1, changes = 0;
    while (waitpid(job, &status, WUNTRACED | WCONTINUED | WNOHANG) == job) {
      changes++;
      if (WIFSTOPPED(status)) stopped = 1;
      else if (WIFCONTINUED(status)) stopped = 0;
      else die("job ended while stopped");
    }
    char state = proc_state(job);
    fprintf(stderr, "parent: %d changes reported while stopped, /proc state %c\n", changes, state);
    printf("parent: at fg the job is stopped: waitpid %s, /proc %s\n", stopped ? "yes" : "no", state == 'T' ? "yes" : "no");
    fflush(stdout);
    if (kill(job, SIGCONT) != 0) die("kill SIGCONT");
  }
  printf("parent: job exited with status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
