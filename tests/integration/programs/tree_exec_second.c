/* The second half of the exec test: exec'ed by tree_exec_first.c.
 *
 * usage: tree_exec_second FD PID STEP SUM STEPS STEP_MS
 *
 * Checks it is still the same process (getpid() is PID) and that its
 * environment is what the first half passed, then reads STEPS more lines
 * from the inherited descriptor FD (at the offset the first half left),
 * continuing the step numbers and the checksum.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

#define LINE 24

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: tree_exec_second FD PID STEP SUM STEPS STEP_MS\n");
    return 2;
  }
  int fd = atoi(argv[1]);
  pid_t pid = (pid_t)atoi(argv[2]);
  int first = atoi(argv[3]);
  uint32_t sum = (uint32_t)strtoul(argv[4], NULL, 10);
  int steps = atoi(argv[5]);
  int step_ms = atoi(argv[6]);
  const char *env = getenv("EXEC_TEST");
  int problems = 0;

  printf("exec'ed: same pid: %s, environment as passed: %s\n", getpid() == pid ? "yes" : "no",
         env && strcmp(env, "1") == 0 ? "yes" : "no");
  if (getpid() != pid || !env || strcmp(env, "1") != 0) problems++;
  fflush(stdout);

  char line[LINE + 1];
  for (int step = first + 1; step <= first + steps; step++) {
    ssize_t n = read(fd, line, LINE);
    if (n != LINE) {
      printf("step %d: read from the inherited descriptor returned %zd (%s)\n", step, n, n < 0 ? strerror(errno) : "");
      return 1;
    }
    line[LINE - 1] = 0;
    for (int i = 0; i < LINE - 1; i++) sum = sum * 31 + (unsigned char)line[i];
    printf("step %d after exec: %s\n", step, line);
    fflush(stdout);
    sleep_ms(step_ms);
  }
  printf("done: checksum %08x, same pid at the end: %s\n", sum, getpid() == pid ? "yes" : "no");
  if (getpid() != pid) problems++;
  return problems ? 1 : 0;
}
