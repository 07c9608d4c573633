/* restart_spawn DIR: posix_spawn whose child is held up in its file actions
 * (opening a FIFO that a helper process opens for writing only 3 s later) is
 * checkpointed while the parent waits for the child's exec, killed and
 * restarted: the parent must stop waiting on its old process's pipe, get the
 * child's pid, reap it, and stay checkpointable through the steps after. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  char fifo[4096];
  snprintf(fifo, sizeof fifo, "%s/spawn.fifo", argv[1]);
  unlink(fifo);
  if (mkfifo(fifo, 0600) != 0) {
    perror("mkfifo");
    return 1;
  }
  pid_t helper = fork();
  if (helper == 0) {
    pause_ms(3000);
    int fd = open(fifo, O_WRONLY);
    if (fd >= 0) close(fd);
    _exit(fd >= 0 ? 0 : 1);
  }
  printf("step 1\n");
  fflush(stdout);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 3, fifo, O_RDONLY, 0);
  char *child_argv[] = {"echo", "step 2 the spawned child ran", NULL};
  pid_t child;
  int err = posix_spawn(&child, "/bin/echo", &fa, NULL, child_argv, environ);
  if (err != 0) {
    printf("posix_spawn failed: %d\n", err);
    return 1;
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || waitpid(helper, NULL, 0) != helper) {
    perror("waitpid");
    return 1;
  }
  printf("step 3 the child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  fflush(stdout);
  for (int s = 4; s <= 30; ++s) {
    pause_ms(100);
    printf("step %d\n", s);
    fflush(stdout);
  }
  unlink(fifo);
  return 0;
}
