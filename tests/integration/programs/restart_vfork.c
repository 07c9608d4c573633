/* restart_vfork: a parent whose vfork child has not exec'ed yet (it waits 3 s
 * first, which libckpt's fork-based vfork allows) is checkpointed while it
 * waits for that exec, killed and restarted: it must stop waiting on its
 * old process's pipe (whose number then names the new coordinator
 * connection: reading it stole the checkpoint thread's bytes), reap the
 * child as usual, and stay checkpointable through the steps that follow. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  printf("step 1\n");
  fflush(stdout);
  pid_t pid = vfork();
  if (pid < 0) {
    perror("vfork");
    return 1;
  }
  if (pid == 0) {
    struct timespec ts = {3, 0};
    while (nanosleep(&ts, &ts) != 0) {
    }
    execl("/bin/echo", "echo", "step 2 the child exec'ed", (char *)NULL);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    return 1;
  }
  printf("step 3 the child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  fflush(stdout);
  for (int s = 4; s <= 30; ++s) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
    printf("step %d\n", s);
    fflush(stdout);
  }
  return 0;
}
