// Processes created inside a computation, for the process_creation tests.
//
//   process_creation_tree fork N SECONDS
//       forks N children that each sleep SECONDS and exit with their index;
//       prints "ready" once all exist, then each child's exit status.
//   process_creation_tree exec-cleared NAME TARGET ARGS...
//       execs TARGET with argv[0] = NAME and an empty environment.
//   process_creation_tree wait STEPS
//       prints what an exec'ed program sees (libckpt preloaded? hand-over
//       variables hidden?), then "step 1".."step STEPS", one every 0.2 s,
//       then "done".
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int forker(int n, int seconds) {
  pid_t kids[64];
  for (int i = 0; i < n && i < 64; ++i) {
    kids[i] = fork();
    if (kids[i] < 0) {
      perror("fork");
      return 1;
    }
    if (kids[i] == 0) {
      nap_ms(seconds * 1000L);
      _exit(i);
    }
  }
  printf("ready\n");
  for (int i = 0; i < n && i < 64; ++i) {
    int status;
    if (waitpid(kids[i], &status, 0) != kids[i]) {
      perror("waitpid");
      return 1;
    }
    printf("child %d: exit %d\n", i, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return 0;
}

static int waiter(int steps) {
  const char* preload = getenv("LD_PRELOAD");
  printf("libckpt preloaded: %s\n", preload && strstr(preload, "libckpt.so") ? "yes" : "no");
  printf("coordinator port known: %s\n", getenv("CKPT_COORD_PORT") ? "yes" : "no");
  printf("hand-over variables hidden: %s\n", !getenv("CKPT_COORD_FD") && !getenv("CKPT_EXEC_STATE") ? "yes" : "no");
  for (int i = 1; i <= steps; ++i) {
    printf("step %d\n", i);
    nap_ms(200);
  }
  printf("done\n");
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 4 && !strcmp(argv[1], "fork")) return forker(atoi(argv[2]), atoi(argv[3]));
  if (argc >= 3 && !strcmp(argv[1], "wait")) return waiter(atoi(argv[2]));
  if (argc >= 4 && !strcmp(argv[1], "exec-cleared")) {
    char* empty[] = {NULL};
    char* target = argv[3];
    argv[3] = argv[2];  // the new program's argv[0], hence its name
    execve(target, argv + 3, empty);
    perror("execve");
    return 127;
  }
  fprintf(stderr, "usage: %s fork N SECONDS | exec-cleared NAME TARGET ARGS... | wait STEPS\n", argv[0]);
  return 2;
}
