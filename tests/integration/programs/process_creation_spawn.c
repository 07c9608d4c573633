// Starts one child in each way a program can create one, all of which must
// join the computation: system(), popen() for reading and for writing,
// posix_spawn with file actions and attributes, posix_spawnp, clone()
// without CLONE_THREAD, vfork+exec. Each child runs `sleep SECONDS` (the
// shell execs it, so each way adds exactly one process). Prints "ready"
// once all run, then each child's result; the output never depends on pids
// or timing.
//
// usage: process_creation_spawn SECONDS DIR   (DIR receives spawn.out)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
static const char* g_seconds;

static void* run_system(void* arg) {
  char cmd[64];
  snprintf(cmd, sizeof cmd, "exec sleep %s", g_seconds);
  int status = system(cmd);
  *(int*)arg = status;
  return NULL;
}

static int clone_child(void* arg) {
  (void)arg;
  execlp("sleep", "sleep", g_seconds, (char*)NULL);
  return 127;
}

static void report(const char* what, int status) {
  if (WIFEXITED(status)) printf("%s: exit %d\n", what, WEXITSTATUS(status));
  else printf("%s: status 0x%x\n", what, status);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SECONDS DIR\n", argv[0]);
    return 2;
  }
  g_seconds = argv[1];
  setvbuf(stdout, NULL, _IOLBF, 0);

  // system() blocks: a thread runs it.
  pthread_t t;
  int system_status = -1;
  pthread_create(&t, NULL, run_system, &system_status);

  char cmd[128];
  snprintf(cmd, sizeof cmd, "exec sleep %s", g_seconds);
  FILE* reader = popen(cmd, "r");
  snprintf(cmd, sizeof cmd, "exec sleep %s", g_seconds);
  FILE* writer = popen(cmd, "we");
  if (!reader || !writer) {
    perror("popen");
    return 1;
  }

  // posix_spawn: stdout to a file (addopen), everything else above 2 closed
  // (addclosefrom), a new process group; then posix_spawnp of an echo whose
  // output must land in that file too.
  char out_path[4096];
  snprintf(out_path, sizeof out_path, "%s/spawn.out", argv[2]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  char* sleep_argv[] = {"sleep", (char*)g_seconds, NULL};
  pid_t spawned;
  int rc = posix_spawn(&spawned, "/bin/sleep", &fa, &attr, sleep_argv, environ);
  if (rc != 0) {
    fprintf(stderr, "posix_spawn: %s\n", strerror(rc));
    return 1;
  }
  char* echo_argv[] = {"sh", "-c", "echo spawned-by-posix_spawnp", NULL};
  pid_t echoed;
  rc = posix_spawnp(&echoed, "sh", &fa, NULL, echo_argv, environ);
  if (rc != 0) {
    fprintf(stderr, "posix_spawnp: %s\n", strerror(rc));
    return 1;
  }
  int status;
  waitpid(echoed, &status, 0);
  report("posix_spawnp echo", status);
  char* missing_argv[] = {"no-such-program", NULL};
  pid_t missing;
  printf("posix_spawnp missing: %s\n", strerror(posix_spawnp(&missing, "no-such-program-ckpt", NULL, NULL, missing_argv, environ)));

  static char stack[64 * 1024];
  pid_t cloned = clone(clone_child, stack + sizeof stack, SIGCHLD, NULL);
  if (cloned < 0) {
    perror("clone");
    return 1;
  }
  pid_t vforked = vfork();
  if (vforked == 0) {
    execlp("sleep", "sleep", g_seconds, (char*)NULL);
    _exit(127);
  }
  printf("ready\n");

  report("posix_spawn", (waitpid(spawned, &status, 0), status));
  report("clone", (waitpid(cloned, &status, 0), status));
  report("vfork", (waitpid(vforked, &status, 0), status));
  report("popen r", pclose(reader));
  report("popen w", pclose(writer));
  pthread_join(t, NULL);
  report("system", system_status);
  report("system exit 3", system("exit 3"));
  return 0;
}
