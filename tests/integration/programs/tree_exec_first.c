/* The first half of a program that execs another mid-run
 * (tree_exec_second.c is the other half).
 *
 * usage: tree_exec_first SECOND WORKDIR [STEPS_BEFORE=10] [STEPS_AFTER=20] [STEP_MS=100]
 *
 * Writes WORKDIR/numbers.txt (fixed-size lines), opens it without
 * O_CLOEXEC and reads one line per step for STEPS_BEFORE steps, then execs
 * SECOND with an environment of just EXEC_TEST=1 (the way programs that
 * clear their environment do), handing over the descriptor, its pid, the
 * step reached and its running checksum on the command line. SECOND goes on
 * reading the same descriptor at the same offset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

#define LINE 24

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tree_exec_first SECOND WORKDIR [STEPS_BEFORE] [STEPS_AFTER] [STEP_MS]\n");
    return 2;
  }
  const char *second = argv[1];
  int before = argc > 3 ? atoi(argv[3]) : 10;
  const char *after = argc > 4 ? argv[4] : "20";
  const char *step_ms = argc > 5 ? argv[5] : "100";
  if (chdir(argv[2]) != 0) die("chdir");

  FILE *f = fopen("numbers.txt", "w");
  if (!f) die("create numbers.txt");
  for (int i = 1; i <= before + atoi(after); i++) fprintf(f, "number %04d %11u\n", i, (unsigned)i * 2654435761u);
  if (fclose(f) != 0) die("write numbers.txt");
  int fd = open("numbers.txt", O_RDONLY);
  if (fd < 0) die("open numbers.txt");

  uint32_t sum = 0;
  char line[LINE + 1];
  for (int step = 1; step <= before; step++) {
    if (read(fd, line, LINE) != LINE) die("read numbers.txt");
    line[LINE - 1] = 0;
    for (int i = 0; i < LINE - 1; i++) sum = sum * 31 + (unsigned char)line[i];
    printf("step %d before exec: %s\n", step, line);
    fflush(stdout);
    sleep_ms(atoi(step_ms));
  }

  char fd_text[16], pid_text[16], step_text[16], sum_text[16];
  snprintf(fd_text, sizeof fd_text, "%d", fd);
  snprintf(pid_text, sizeof pid_text, "%d", (int)getpid());
  snprintf(step_text, sizeof step_text, "%d", before);
  snprintf(sum_text, sizeof sum_text, "%u", sum);
  char *args[] = {(char *)second, fd_text, pid_text, step_text, sum_text, (char *)after, (char *)step_ms, NULL};
  char *env[] = {"EXEC_TEST=1", NULL};
  execve(second, args, env);
  die("execve");
}
