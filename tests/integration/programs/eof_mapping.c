/* A private file mapping that reaches past the file's end, as ld.so makes
 * one for a moment while it loads a library (the whole span of the library
 * mapped from a shorter file, before the segments are mapped over it). The
 * pages wholly past the end fault with SIGBUS on access; a checkpoint must
 * still save the mapping (the image writer reads every page) and the
 * restarted program must find the bytes it could read and those it wrote.
 *
 * usage: eof_mapping [STEPS=30] [PAUSE_MS=100]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { kMappedPages = 4 };

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause = argc > 2 ? atoi(argv[2]) : 100;
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  /* One and a half pages of file under four pages of mapping. */
  const size_t file_len = page + page / 2;
  char path[] = "/tmp/ckpt-eof-mapping-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    perror("mkstemp");
    return 1;
  }
  char *contents = malloc(file_len);
  for (size_t i = 0; i < file_len; ++i) contents[i] = (char)('a' + i % 26);
  if (write(fd, contents, file_len) != (ssize_t)file_len) {
    perror("write");
    return 1;
  }
  char *map = mmap(NULL, kMappedPages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  unlink(path);
  if (map == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  /* A private copy of the first page. */
  const char note[] = "written by the program";
  memcpy(map + 100, note, sizeof note);
  memcpy(contents + 100, note, sizeof note);

  for (int step = 1; step <= steps; ++step) {
    int file_bytes = memcmp(map, contents, file_len) == 0;
    /* The kernel zero-fills the last page beyond the file's end. */
    int tail_zero = 1;
    for (size_t i = file_len; i < 2 * page; ++i) tail_zero &= map[i] == 0;
    printf("step %d: file bytes and our note: %s; last page's tail zero: %s\n", step, file_bytes ? "yes" : "no",
           tail_zero ? "yes" : "no");
    fflush(stdout);
    sleep_ms(pause);
  }
  return 0;
}
