/* Memory of which a small part changes between checkpoints: what an
 * incremental image stores, and what a restart must bring back from a chain
 * of them.
 *
 * usage: incr_pages MIB STEPS PAUSE_MS PERMILLE [own-uffd]
 *
 * MIB MiB of anonymous memory, every page filled with data at first; each
 * step rewrites PERMILLE/1000 of the pages (chosen by the step number),
 * zeroes one page, gives one page back to the kernel (MADV_DONTNEED: it
 * reads as zeros after) and maps, fills and unmaps a small region, then
 * prints "step N" and a checksum of the whole memory, so a page lost, stale
 * or taken from the wrong image changes every later line.
 *
 * With own-uffd, every third step registers the memory with a userfaultfd
 * of its own (write-protect mode, nothing protected) and lets it go again:
 * memory ckpt tracks writes to must stay the application's to register. It
 * fails if the registration does; where userfaultfd is refused altogether
 * (EPERM, ENOSYS) it goes on without.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>
#include "mix64.h"

enum { kPage = 4096 };

static void die(const char *what) {
  fprintf(stderr, "incr_pages: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fill_page(unsigned char *p, uint64_t seed) {
  uint64_t *w = (uint64_t *)p;
  for (size_t i = 0; i < kPage / 8; i++) w[i] = mix(seed * 4099 + i);
}

// Registers [mem, mem + len) with a userfaultfd of our own, then closes it.
static void own_uffd(unsigned char *mem, size_t len) {
  int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
  if (fd < 0 && (errno == EPERM || errno == ENOSYS)) return;
  if (fd < 0) die("userfaultfd");
  struct uffdio_api api = {.api = UFFD_API};
  if (ioctl(fd, UFFDIO_API, &api) != 0) die("UFFDIO_API");
  struct uffdio_register reg = {.range = {(unsigned long)mem, len}, .mode = UFFDIO_REGISTER_MODE_WP};
  if (ioctl(fd, UFFDIO_REGISTER, &reg) != 0) die("UFFDIO_REGISTER of our own memory");
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 5 && !(argc == 6 && strcmp(argv[5], "own-uffd") == 0)) {
    fprintf(stderr, "usage: incr_pages MIB STEPS PAUSE_MS PERMILLE [own-uffd]\n");
    return 2;
  }
  const size_t pages = (size_t)atol(argv[1]) * (1 << 20) / kPage;
  const int steps = atoi(argv[2]);
  const long pause_ms = atol(argv[3]);
  const size_t per_step = pages * (size_t)atol(argv[4]) / 1000 + 1;
  unsigned char *mem = mmap(NULL, pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) die("mmap");
  for (size_t i = 0; i < pages; i++) fill_page(mem + i * kPage, i + 1);
  unsigned char *extra = NULL;  // a region that lives across one step
  for (int step = 1; step <= steps; step++) {
    if (argc == 6 && step % 3 == 0) own_uffd(mem, pages * kPage);
    for (size_t k = 0; k < per_step; k++) {
      size_t page = mix((uint64_t)step * 1000003 + k) % pages;
      fill_page(mem + page * kPage, (uint64_t)step << 32 | page);
    }
    memset(mem + (mix(step + 7) % pages) * kPage, 0, kPage);
    if (madvise(mem + (mix(step + 11) % pages) * kPage, kPage, MADV_DONTNEED) != 0) die("madvise");
    if (extra) munmap(extra, 16 * kPage);
    extra = mmap(NULL, 16 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (extra == MAP_FAILED) die("mmap extra");
    for (int i = 0; i < 16; i++) fill_page(extra + i * kPage, (uint64_t)step * 77 + i);
    uint64_t sum = 0;
    const uint64_t *w = (const uint64_t *)mem;
    for (size_t i = 0; i < pages * kPage / 8; i++) sum = mix(sum ^ w[i] ^ i);
    w = (const uint64_t *)extra;
    for (size_t i = 0; i < 16 * kPage / 8; i++) sum = mix(sum ^ w[i] ^ i);
    printf("step %d %016" PRIx64 "\n", step, sum);
    fflush(stdout);
    struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  return 0;
}
