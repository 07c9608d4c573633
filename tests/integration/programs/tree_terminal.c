/* tree_terminal: a parent and a forked child on a terminal (issue 3: "stdin,
 * stdout and stderr that were a terminal attach to ckpt_restart's terminal").
 *
 * The child reads lines from the terminal and answers each with
 *   "step N got LINE: stdin/stdout/stderr one terminal, foreground"
 * where the checks are made on the spot: all three streams are the same
 * terminal device (ttyname), and the child's process group is the terminal's
 * foreground group (so it may read it, and ^C would reach it). It exits 7 on
 * "quit"; the parent waits for it by pid and reports the status. The test
 * checkpoints while the child waits for a line, kills the computation and
 * restarts it on another terminal, whose lines must reach the child.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *streams_state(void) {
  static char names[3][64];
  for (int fd = 0; fd < 3; ++fd) {
    if (!isatty(fd)) return "not all terminals";
    if (ttyname_r(fd, names[fd], sizeof names[fd]) != 0) return "a terminal without a name";
  }
  if (strcmp(names[0], names[1]) != 0 || strcmp(names[0], names[2]) != 0) return "different terminals";
  return "one terminal";
}

static const char *foreground_state(void) {
  pid_t fg = tcgetpgrp(0);
  if (fg < 0) return "no foreground group";
  return fg == getpgrp() ? "foreground" : "background";
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("start: stdin/stdout/stderr %s, %s\n", streams_state(), foreground_state());
  pid_t child = fork();
  if (child < 0) {
    perror("fork");
    return 1;
  }
  if (child == 0) {
    char line[256];
    int step = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
      line[strcspn(line, "\r\n")] = '\0';
      if (strcmp(line, "quit") == 0) _exit(7);
      printf("step %d got %s: stdin/stdout/stderr %s, %s\n", ++step, line, streams_state(), foreground_state());
    }
    printf("end of input\n");
    _exit(1);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) {
    perror("waitpid");
    return 1;
  }
  printf("child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  fprintf(stderr, "done\n");
  return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}
