/* fd_stdio DIR: a process tree and its standard streams.
 *
 * The root moves whatever it has at fd 5 (the test gives it a pipe whose
 * writer is outside the computation) to fd 0, starts a child (fork + exec of
 * argv[0], an absolute path, as "child DIR"; it inherits stdin and stdout), then prints
 * "step N" every 50 ms. When DIR/fork2 appears it starts a second child the
 * same way and prints "forked 2"; when DIR/stop appears every process
 * finishes and the root prints "done".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_path[4096];

static const char *in_dir(const char *dir, const char *name) {
  snprintf(g_path, sizeof g_path, "%s/%s", dir, name);
  return g_path;
}

static pid_t start_child(const char *self, const char *dir) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    execl(self, self, "child", dir, (char *)NULL);
    _exit(127);
  }
  if (pid < 0) {
    perror("fork");
    exit(1);
  }
  return pid;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "child") == 0) {
    while (access(in_dir(argv[2], "stop"), F_OK) != 0) usleep(20000);
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: fd_stdio DIR\n");
    return 2;
  }
  const char *dir = argv[1];
  if (dup2(5, 0) == 0) close(5);
  /* argv[0], not /proc/self/exe: after a restart that names ckpt_restart. */
  pid_t children[2] = {start_child(argv[0], dir), -1};
  for (int step = 1; access(in_dir(dir, "stop"), F_OK) != 0; ++step) {
    printf("step %d\n", step);
    fflush(stdout);
    if (children[1] < 0 && access(in_dir(dir, "fork2"), F_OK) == 0) {
      children[1] = start_child(argv[0], dir);
      printf("forked 2\n");
    }
    usleep(50000);
  }
  int ok = 1;
  for (int i = 0; i < 2; ++i) {
    int status;
    if (children[i] > 0 && (waitpid(children[i], &status, 0) != children[i] || !WIFEXITED(status) ||
                            WEXITSTATUS(status) != 0))
      ok = 0;
  }
  printf(ok ? "done\n" : "a child failed\n");
  return ok ? 0 : 1;
}
