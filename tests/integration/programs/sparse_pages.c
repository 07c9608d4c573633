/* Memory whose pages are mostly never touched, zero, or a file's: what a
 * checkpoint need not store, and what a restart must still bring back.
 *
 * usage: sparse_pages sparse|zero|file STEPS PAUSE_MS [FILE]
 *
 *   sparse: a 256 MiB private mapping and a 1 TiB MAP_NORESERVE reservation;
 *           each step writes one more page of the first and rewrites one of
 *           four pages of the second.
 *   zero:   a 16 MiB buffer, every page nonzero at first; each step turns a
 *           third of the pages to zeros and another third back to data.
 *   file:   FILE mapped private and writable; each step writes into one page
 *           and the first step zeroes a whole page (a copied page that is all
 *           zeros still differs from the file).
 *
 * Each step prints "step N" and a checksum of the memory, so a page lost,
 * misplaced or taken from the wrong source changes every later line. Pages
 * never written must read as zero (sparse) or as the file's bytes (file): a
 * step says so if one does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "mix64.h"

enum { kPage = 4096 };

static void die(const char *what) {
  fprintf(stderr, "sparse_pages: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  if (nanosleep(&ts, NULL) != 0) die("nanosleep");
}

static uint64_t sum_bytes(uint64_t sum, const unsigned char *p, size_t len, uint64_t where) {
  const uint64_t *w = (const uint64_t *)p;
  for (size_t i = 0; i < len / 8; i++) sum = mix(sum ^ w[i] ^ (where + i));
  return sum;
}

static void fill_page(unsigned char *p, uint64_t seed) {
  uint64_t *w = (uint64_t *)p;
  for (size_t i = 0; i < kPage / 8; i++) w[i] = mix(seed + i) | 1;
}

static int page_is_zero(const unsigned char *p) {
  for (size_t i = 0; i < kPage; i++)
    if (p[i]) return 0;
  return 1;
}

static void run_sparse(int steps, long pause_ms) {
  const size_t big = 256ul << 20, pages = big / kPage;
  const size_t huge = 1ul << 40;
  unsigned char *a = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) die("mmap 256 MiB");
  unsigned char *b = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (b == MAP_FAILED) die("mmap 1 TiB MAP_NORESERVE");
  const size_t b_pages[4] = {0, (huge / 3) & ~(size_t)(kPage - 1), (huge / 2) & ~(size_t)(kPage - 1), huge - kPage};
  for (int i = 0; i < 4; i++) fill_page(b + b_pages[i], 1000 + i);
  size_t *written = calloc(steps + 1, sizeof *written);
  if (!written) die("calloc");
  for (int step = 1; step <= steps; step++) {
    size_t page = mix(step) % pages;
    written[step] = page;
    fill_page(a + page * kPage, step);
    fill_page(b + b_pages[step % 4], 2000 + step);
    uint64_t sum = 0;
    for (int i = 1; i <= step; i++) sum = sum_bytes(sum, a + written[i] * kPage, kPage, written[i]);
    for (int i = 0; i < 4; i++) sum = sum_bytes(sum, b + b_pages[i], kPage, i);
    /* Pages never written, in both mappings. */
    size_t other = mix(step + 77777) % pages;
    int was_written = 0;
    for (int i = 1; i <= step; i++) was_written |= written[i] == other;
    int zeros = (was_written || page_is_zero(a + other * kPage)) && page_is_zero(b + huge / 4) &&
                page_is_zero(b + kPage);
    printf("step %d sum %016" PRIx64 " untouched %s\n", step, sum, zeros ? "zero" : "NOT ZERO");
    fflush(stdout);
    sleep_ms(pause_ms);
  }
}

static void run_zero(int steps, long pause_ms) {
  const size_t size = 16ul << 20, pages = size / kPage;
  unsigned char *a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) die("mmap 16 MiB");
  for (size_t i = 0; i < pages; i++) fill_page(a + i * kPage, i);
  for (int step = 1; step <= steps; step++) {
    for (size_t i = 0; i < pages; i++) {
      if ((i + step) % 3 == 0) memset(a + i * kPage, 0, kPage);
      else if ((i + step) % 3 == 1) fill_page(a + i * kPage, i * 31 + step);
    }
    size_t zero = 0;
    for (size_t i = 0; i < pages; i++) zero += page_is_zero(a + i * kPage);
    printf("step %d sum %016" PRIx64 " zero pages %zu\n", step, sum_bytes(0, a, size, 0), zero);
    fflush(stdout);
    sleep_ms(pause_ms);
  }
}

static void run_file(int steps, long pause_ms, const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die(path);
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  size_t size = (size_t)st.st_size & ~(size_t)(kPage - 1), pages = size / kPage;
  if (pages < 8) {
    fprintf(stderr, "sparse_pages: %s: needs at least 8 pages\n", path);
    exit(1);
  }
  unsigned char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) die("mmap file");
  close(fd);
  for (int step = 1; step <= steps; step++) {
    if (step == 1) memset(m + 3 * kPage, 0, kPage);
    size_t page = (step * 7ul) % pages;
    if (page == 3) page = 4;
    memset(m + page * kPage + (step * 13) % (kPage - 64), 'A' + step % 26, 64);
    printf("step %d sum %016" PRIx64 " page3 %s\n", step, sum_bytes(0, m, size, 0),
           page_is_zero(m + 3 * kPage) ? "zero" : "NOT ZERO");
    fflush(stdout);
    sleep_ms(pause_ms);
  }
}

int main(int argc, char **argv) {
  if (argc < 4 || (strcmp(argv[1], "file") == 0 && argc < 5)) {
    fprintf(stderr, "usage: sparse_pages sparse|zero|file STEPS PAUSE_MS [FILE]\n");
    return 2;
  }
  int steps = atoi(argv[2]);
  long pause_ms = atol(argv[3]);
  if (!strcmp(argv[1], "sparse")) run_sparse(steps, pause_ms);
  else if (!strcmp(argv[1], "zero")) run_zero(steps, pause_ms);
  else if (!strcmp(argv[1], "file")) run_file(steps, pause_ms, argv[4]);
  else {
    fprintf(stderr, "sparse_pages: unknown mode %s\n", argv[1]);
    return 2;
  }
  return 0;
}
