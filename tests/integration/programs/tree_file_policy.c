/* Files whose restart policy (merge, ignore, append, replace, substitute) or
 * location (ckpt_restart --relocate) the test chooses.
 *
 * usage: tree_file_policy DIR OTHER_DIR [STEPS=40] [STEP_MS=100]
 *
 * Creates its files, then chdir(DIR) and every step:
 *   merge.dat       reads the next 16-byte line and prints it;
 *   OTHER_DIR/other.dat   same (a directory next to DIR, whose name starts
 *                   with DIR's name: --relocate must leave it alone);
 *   ignore.dat      read to its end at the start and printed; every step
 *                   tries to read more and reports on stderr what it got
 *                   ("NOTE ignore.dat read again: ...");
 *   append.dat      writes "append step N" at its offset (no O_APPEND);
 *   replace.dat     writes "replace step N" at its offset;
 *   substitute.dat  writes "substitute step N" at its offset.
 * At the end it prints what replace.dat and substitute.dat hold as seen
 * through its descriptors (line count and checksum), and writes
 * cwd-check.dat through a relative path.
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

#define LINE 16

static void write_text(int fd, const char *text) {
  if (write_all(fd, text, strlen(text)) != 0) die("write");
}

/* A file of `lines` fixed-size lines "<prefix> line NNN\n", padded to LINE bytes. */
static void make_lines(const char *path, const char *prefix, int lines) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die(path);
  char line[64];
  for (int i = 1; i <= lines; i++) {
    snprintf(line, sizeof line, "%-5.5s line %03d", prefix, i % 1000);
    memset(line + strlen(line), ' ', LINE - strlen(line));
    line[LINE - 1] = '\n';
    if (write(fd, line, LINE) != LINE) die("write");
  }
  close(fd);
}

static int open_or_die(const char *path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd < 0) die(path);
  return fd;
}

static void read_line(int fd, const char *name, char *line) {
  ssize_t n = read(fd, line, LINE);
  if (n != LINE) {
    fprintf(stderr, "tree_file_policy: %s: short read (%zd)\n", name, n);
    exit(1);
  }
  line[LINE - 1] = 0;
}

/* Line count and checksum of the whole file behind fd (pread: offset untouched). */
static void summarize(int fd, const char *name) {
  char buf[4096];
  uint32_t sum = 0;
  int lines = 0;
  off_t at = 0;
  ssize_t n;
  while ((n = pread(fd, buf, sizeof buf, at)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      sum = sum * 31 + (unsigned char)buf[i];
      lines += buf[i] == '\n';
    }
    at += n;
  }
  if (n < 0) die("pread");
  printf("%s as the program sees it: %d lines, %ld bytes, checksum %08x\n", name, lines, (long)at, sum);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tree_file_policy DIR OTHER_DIR [STEPS] [STEP_MS]\n");
    return 2;
  }
  const char *other_dir = argv[2];
  int steps = argc > 3 ? atoi(argv[3]) : 40;
  int step_ms = argc > 4 ? atoi(argv[4]) : 100;
  if (chdir(argv[1]) != 0) die("chdir");
  char other_path[4096];
  snprintf(other_path, sizeof other_path, "%s/other.dat", other_dir);

  make_lines("merge.dat", "merge", steps);
  make_lines(other_path, "other", steps);
  int fd = open_or_die("ignore.dat", O_WRONLY | O_CREAT | O_TRUNC);
  write_text(fd, "ignore.dat as the program wrote it at the start\n");
  close(fd);

  int merge = open_or_die("merge.dat", O_RDONLY);
  int other = open_or_die(other_path, O_RDONLY);
  int ignore = open_or_die("ignore.dat", O_RDONLY);
  int append = open_or_die("append.dat", O_WRONLY | O_CREAT | O_TRUNC);
  int replace = open_or_die("replace.dat", O_RDWR | O_CREAT | O_TRUNC);
  int substitute = open_or_die("substitute.dat", O_RDWR | O_CREAT | O_TRUNC);

  char buf[256];
  ssize_t n = read(ignore, buf, sizeof buf - 1);
  if (n <= 0) die("read ignore.dat");
  buf[n] = 0;
  printf("ignore.dat at the start: %s", buf);

  for (int step = 1; step <= steps; step++) {
    char a[LINE], b[LINE], text[64];
    read_line(merge, "merge.dat", a);
    read_line(other, "other.dat", b);
    n = read(ignore, buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = 0;
      fprintf(stderr, "NOTE ignore.dat read again: %s", buf);
    }
    snprintf(text, sizeof text, "append step %03d\n", step);
    write_text(append, text);
    snprintf(text, sizeof text, "replace step %03d\n", step);
    write_text(replace, text);
    snprintf(text, sizeof text, "substitute step %03d\n", step);
    write_text(substitute, text);
    printf("step %d: %s | %s\n", step, a, b);
    fflush(stdout);
    sleep_ms(step_ms);
  }

  summarize(replace, "replace.dat");
  summarize(substitute, "substitute.dat");
  fd = open_or_die("cwd-check.dat", O_WRONLY | O_CREAT | O_TRUNC);
  write_text(fd, "written through the working directory\n");
  close(fd);
  printf("done\n");
  return 0;
}
