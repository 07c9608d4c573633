/* socket_bench PROCS none|idle|busy DIR: PROCS processes in a ring of TCP
 * loopback connections (each to the next), for bench/socket_bench.sh.
 * busy: every process streams 64 KiB chunks to its right neighbour and
 * reads its left neighbour's as fast as it can; idle: the connections carry
 * nothing. Every process loops every millisecond at most; it records the
 * longest gap between two iterations (what a checkpoint's pause costs it)
 * in DIR/gap.N, which it resets when DIR/reset appears newer than its last
 * reset, and its iteration count in DIR/alive.N. none: no connections at all
 * (what the same processes cost without sockets). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void pair(int fds[2]) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&a, len) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len)) exit(1);
  fds[0] = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fds[0], (struct sockaddr *)&a, len)) exit(1);
  fds[1] = accept(l, NULL, NULL);
  close(l);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  fcntl(fds[1], F_SETFL, O_NONBLOCK);
}

static void put(const char *dir, const char *what, int id, long v) {
  char path[4096], text[32];
  snprintf(path, sizeof path, "%s/%s.%d", dir, what, id);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int n = snprintf(text, sizeof text, "%ld\n", v);
  if (fd >= 0 && write(fd, text, (size_t)n) < 0) exit(1);
  if (fd >= 0) close(fd);
}

static long reset_time(const char *dir) {
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/reset", dir);
  return stat(path, &st) == 0 ? st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec : 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: socket_bench PROCS none|idle|busy DIR\n");
    return 2;
  }
  int procs = atoi(argv[1]), busy = strcmp(argv[2], "busy") == 0, none = strcmp(argv[2], "none") == 0;
  const char *dir = argv[3];
  int (*ring)[2] = calloc((size_t)procs, sizeof *ring);
  for (int i = 0; i < procs && !none; ++i) pair(ring[i]);  /* ring[i]: i writes [0], i+1 reads [1] */
  int id = 0;
  for (int i = 1; i < procs; ++i)
    if (fork() == 0) {
      id = i;
      break;
    }
  int out = ring[id][0], in = ring[(id + procs - 1) % procs][1];
  for (int i = 0; i < procs && !none; ++i)
    if (i != id && i != (id + procs - 1) % procs) close(ring[i][0]), close(ring[i][1]);
  static char chunk[65536];
  long last = now_us(), gap = 0, seen_reset = reset_time(dir), iterations = 0, last_report = 0;
  if (id == 0) printf("ready\n"), fflush(stdout);
  for (;;) {
    if (busy) {
      while (write(out, chunk, sizeof chunk) > 0) {
      }
      while (read(in, chunk, sizeof chunk) > 0) {
      }
    }
    long t = now_us();
    if (t - last > gap) gap = t - last;
    last = t;
    ++iterations;
    if (t - last_report > 10000) {
      long r = reset_time(dir);
      if (r != seen_reset) seen_reset = r, gap = 0;
      put(dir, "gap", id, gap);
      put(dir, "alive", id, iterations);
      last_report = t;
    }
    usleep(1000);
  }
}
