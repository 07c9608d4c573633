/* Two processes append to one log through a shared O_APPEND description;
 * the parent reads its input file through stdio.
 *
 * usage: tree_shared_log WORKDIR [QUIET_LINES=300]
 *
 * Writes WORKDIR/input.txt, opens it with fopen, opens WORKDIR/shared.log
 * with O_APPEND and forks a child that shares that description. Then:
 *
 *   phase 1: 20 rounds; in each the parent reads an input line (fgets) and
 *            logs it, then passes a token to the child, which checks that its
 *            offset is the file's end (one shared description: the parent's
 *            write moved it) and logs a line, and passes the token back;
 *   phase 2: the "quiet" phase: the parent reads QUIET_LINES input lines, one
 *            every 10 ms, printing "step N" every 10 lines; nobody logs;
 *   phase 3: 20 more rounds like phase 1 ("phase 3" is printed first);
 *
 * then the parent sends "quit", the child reports whether its descriptor
 * still has O_APPEND and exits, and the parent waits for it. (A child whose
 * parent is gone, as when the test kills the computation one process after
 * the other, exits without logging.) The test checkpoints and kills during the
 * quiet phase, so the log's final content must equal the uninterrupted run's
 * byte for byte: lines lost, doubled, or written over by a process whose
 * offset was not the shared one all show.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

#define INPUT_LINES 400

static void write_line(int fd, const char *text) {
  if (write_all(fd, text, strlen(text)) != 0) die("write to the log");
}

/* One byte each way: 't' = your turn, 'q' = quit. Returns the byte, 0 at EOF. */
static char read_token(int fd) {
  char c;
  ssize_t n = read_full(fd, &c, 1);
  if (n < 0) die("read token");
  return n == 1 ? c : 0;
}

static void write_token(int fd, char token) {
  if (write_all(fd, &token, 1) != 0) die("write token");
}

static void make_input(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) die("create input");
  for (int i = 1; i <= INPUT_LINES; i++) fprintf(f, "input line %04d value %08x\n", i, (unsigned)i * 2654435761u);
  if (fclose(f) != 0) die("write input");
}

static int child(int log, int from_parent, int to_parent) {
  char line[200];
  int round = 0;
  char token;
  while ((token = read_token(from_parent)) == 't') {
    round++;
    struct stat st;
    if (fstat(log, &st) != 0) die("fstat log");
    off_t offset = lseek(log, 0, SEEK_CUR);
    snprintf(line, sizeof line, "child round %d: offset is the log's end: %s\n", round,
             offset == st.st_size ? "yes" : "no");
    write_line(log, line);
    write_token(to_parent, 't');
  }
  if (token != 'q') return 1;
  int flags = fcntl(log, F_GETFL);
  snprintf(line, sizeof line, "child: log descriptor has O_APPEND: %s\n", flags >= 0 && (flags & O_APPEND) ? "yes" : "no");
  write_line(log, line);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tree_shared_log WORKDIR [QUIET_LINES]\n");
    return 2;
  }
  int quiet_lines = argc > 2 ? atoi(argv[2]) : 300;
  if (chdir(argv[1]) != 0) die("chdir");
  make_input("input.txt");
  FILE *input = fopen("input.txt", "r");
  if (!input) die("open input");
  int log = open("shared.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (log < 0) die("open log");

  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    fclose(input);
    close(to_child[1]);
    close(to_parent[0]);
    _exit(child(log, to_child[0], to_parent[1]));
  }
  close(to_child[0]);
  close(to_parent[1]);

  char in[200], line[300];
  int round = 0;
  uint32_t digest = 0;
  for (int phase = 1; phase <= 3; phase++) {
    if (phase == 2) {
      for (int i = 1; i <= quiet_lines; i++) {
        if (!fgets(in, sizeof in, input)) die("input ended early");
        for (char *p = in; *p; p++) digest = digest * 31 + (unsigned char)*p;
        if (i % 10 == 0) {
          printf("step %d read %d quiet lines, digest %08x\n", i / 10, i, digest);
          fflush(stdout);
        }
        sleep_ms(10);
      }
      continue;
    }
    if (phase == 3) {
      printf("phase 3\n");
      fflush(stdout);
    }
    for (int k = 0; k < 20; k++) {
      round++;
      if (!fgets(in, sizeof in, input)) die("input ended early");
      snprintf(line, sizeof line, "parent round %d: %s", round, in);
      write_line(log, line);
      write_token(to_child[1], 't');
      if (read_token(to_parent[0]) != 't') {
        printf("the child stopped answering in round %d\n", round);
        return 1;
      }
    }
  }
  write_token(to_child[1], 'q');
  int status = 0;
  pid_t got;
  while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (got < 0) die("waitpid");
  int flags = fcntl(log, F_GETFL);
  printf("parent: log descriptor has O_APPEND: %s\n", flags >= 0 && (flags & O_APPEND) ? "yes" : "no");
  printf("child: waitpid returned its pid: %s, exit status %d\n", got == pid ? "yes" : "no",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  printf("done: %d rounds, quiet digest %08x\n", round, digest);
  return got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
