/* loss_holder KIND FROM STEPS PAUSE_MS PROBE_FILE: runs STEPS steps; from
 * step FROM on it holds what ckpt cannot checkpoint, by KIND:
 *   uring       an io_uring instance (fd 10) with its rings mapped shared
 *   netlink     two netlink sockets (fds 11 and 12)
 *   passing     a UNIX socket pair (fds 11 and 12) with a descriptor sent
 *               through it (SCM_RIGHTS) that nobody receives
 *   both        both
 * Every step prints "step N SUM". Once PROBE_FILE exists, it probes each of
 * those descriptors with one non-blocking read and one write and prints what
 * they returned (after a restart that accepted the loss: end-of-file and
 * EPIPE), then exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { kUringFd = 10, kSocketFd = 11, kPeerFd = 12 };

static void die(const char *what) {
  fprintf(stderr, "loss_holder: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void place(int fd, int at) {
  if (fd != at && (dup2(fd, at) != at || close(fd) != 0)) die("dup2");
  if (fcntl(at, F_SETFL, fcntl(at, F_GETFL) | O_NONBLOCK) != 0) die("fcntl");
}

static void hold_uring(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = (int)syscall(__NR_io_uring_setup, 4, &p);
  if (fd < 0) die("io_uring_setup");
  size_t len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  if (mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING) == MAP_FAILED)
    die("mmap io_uring");
  place(fd, kUringFd);
}

static void hold_netlink(void) {
  for (int at = kSocketFd; at <= kPeerFd; ++at) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
    if (fd < 0) die("socket(AF_NETLINK)");
    place(fd, at);
  }
}

static void hold_passing(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
  char byte = 'x';
  struct iovec iov = {&byte, 1};
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int passed = STDOUT_FILENO;
  memcpy(CMSG_DATA(c), &passed, sizeof passed);
  if (sendmsg(sv[0], &msg, 0) != 1) die("sendmsg");
  place(sv[0], kSocketFd);
  place(sv[1], kPeerFd);
}

static void probe(int fd) {
  char buf[16];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0) printf("probe fd %d read: %s\n", fd, strerrorname_np(errno));
  else printf("probe fd %d read: %zd bytes%s\n", fd, n, n == 0 ? " (end-of-file)" : "");
  n = write(fd, "x", 1);
  if (n < 0) printf("probe fd %d write: %s\n", fd, strerrorname_np(errno));
  else printf("probe fd %d write: %zd bytes\n", fd, n);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s uring|netlink|passing|both FROM STEPS PAUSE_MS PROBE_FILE\n", argv[0]);
    return 2;
  }
  const char *kind = argv[1];
  int from = atoi(argv[2]), steps = atoi(argv[3]), pause_ms = atoi(argv[4]);
  const char *probe_file = argv[5];
  int uring = !strcmp(kind, "uring") || !strcmp(kind, "both");
  int pair = !strcmp(kind, "netlink") || !strcmp(kind, "both");
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  unsigned long sum = 0;
  for (int step = 1; step <= steps; ++step) {
    if (step == from) {
      if (uring) hold_uring();
      if (pair) hold_netlink();
      if (!strcmp(kind, "passing")) hold_passing();
    }
    sum = sum * 31 + (unsigned long)step;
    printf("step %d %lu\n", step, sum);
    if (step >= from && access(probe_file, F_OK) == 0) {
      if (uring) probe(kUringFd);
      if (pair) probe(kSocketFd), probe(kPeerFd);
      return 0;
    }
    struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  return 0;
}
