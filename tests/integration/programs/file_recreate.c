/* file_recreate FILE STEPS: writes "line N" to FILE (created with mode 0640)
 * and "step N" to stdout, every 100 ms. At the end it says the mode of the
 * file it wrote and whether FILE names that file. file_recreate.sh moves
 * FILE away between a checkpoint and the restart: the restart must make it
 * again (DMTCP's test/file3 expects the same). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: file_recreate FILE STEPS\n");
    return 2;
  }
  umask(022);
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (fd < 0) {
    perror("open");
    return 1;
  }
  int steps = atoi(argv[2]);
  for (int step = 1; step <= steps; step++) {
    char line[32];
    int n = snprintf(line, sizeof line, "line %d\n", step);
    if (write(fd, line, n) != n) {
      perror("write");
      return 1;
    }
    printf("step %d\n", step);
    fflush(stdout);
    struct timespec pause = {0, 100 * 1000 * 1000};
    if (nanosleep(&pause, NULL) != 0) {
      perror("nanosleep");
      return 1;
    }
  }
  struct stat by_fd, by_path;
  if (fstat(fd, &by_fd) != 0) return 1;
  int same = stat(argv[1], &by_path) == 0 && by_path.st_ino == by_fd.st_ino && by_path.st_dev == by_fd.st_dev;
  printf("file mode %04o, named by its path: %s\n", (unsigned)(by_fd.st_mode & 07777), same ? "yes" : "no");
  return 0;
}
