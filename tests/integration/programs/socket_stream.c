/* socket_stream MODE RECORDS: a parent and a forked child joined by one
 * connection (MODE tcp: IPv4 loopback, through a listener that stays open;
 * tcp6: IPv6 loopback; unix: a socketpair) send each other RECORDS numbered
 * records of 1 KiB as fast as the connection takes them, while each reads
 * them back slowly: the buffers of both directions stay full, so any
 * checkpoint finds bytes in flight both ways. Each side checks that it
 * receives every record of the other, once and in order, and exits non-zero
 * otherwise; the parent prints "step N" every 1000 records it received and
 * the totals at the end. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree_common.h"

enum { kRecord = 1024, kReadsPerTick = 4 };

struct side {
  int fd;
  char tag, other;
  long sent, received, total;
  char out[kRecord];
  size_t out_done;  /* bytes of `out` written; kRecord: nothing pending */
  char in[kRecord];
  size_t in_got;
};

static void fill_record(struct side *s) {
  memset(s->out, 'a' + (int)(s->sent % 26), kRecord);
  snprintf(s->out, 32, "%c %08ld ", s->tag, s->sent + 1);
  s->out[kRecord - 1] = '\n';
  s->out_done = 0;
}

static void check_record(struct side *s, int print) {
  char want[32];
  snprintf(want, sizeof want, "%c %08ld ", s->other, s->received + 1);
  if (memcmp(s->in, want, strlen(want)) != 0 || s->in[kRecord - 1] != '\n' ||
      s->in[kRecord - 2] != 'a' + (int)(s->received % 26)) {
    fprintf(stderr, "%c: record %ld is wrong: got '%.20s'\n", s->tag, s->received + 1, s->in);
    exit(3);
  }
  ++s->received;
  if (print && s->received % 1000 == 0) {
    printf("step %ld\n", s->received / 1000);
    fflush(stdout);
  }
}

static void run(struct side *s, int print) {
  fcntl(s->fd, F_SETFL, O_NONBLOCK);
  fill_record(s);
  while (s->received < s->total || s->sent < s->total) {
    /* Writes as much as the connection takes. */
    while (s->sent < s->total) {
      ssize_t n = write(s->fd, s->out + s->out_done, kRecord - s->out_done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) die("write");
      s->out_done += (size_t)n;
      if (s->out_done == kRecord) {
        ++s->sent;
        fill_record(s);
      }
    }
    /* Reads a few records, then waits a little: the reader is the slow one. */
    for (int i = 0; i < kReadsPerTick && s->received < s->total;) {
      ssize_t n = read(s->fd, s->in + s->in_got, kRecord - s->in_got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n == 0) {
        fprintf(stderr, "%c: end of file after %ld records\n", s->tag, s->received);
        exit(4);
      }
      if (n < 0) die("read");
      s->in_got += (size_t)n;
      if (s->in_got == kRecord) {
        check_record(s, print);
        s->in_got = 0;
        ++i;
      }
    }
    struct pollfd p = {s->fd, POLLIN | (s->sent < s->total ? POLLOUT : 0), 0};
    poll(&p, 1, 5);
    sleep_ms(1);
  }
}

static void connect_pair(const char *mode, int fds[2]) {
  if (strcmp(mode, "unix") == 0) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) die("socketpair");
    return;
  }
  int v6 = strcmp(mode, "tcp6") == 0;
  struct sockaddr_storage addr = {0};
  socklen_t len;
  if (v6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&addr;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  }
  int listener = socket(addr.ss_family, SOCK_STREAM, 0);
  if (listener < 0) {
    if (v6 && errno == EAFNOSUPPORT) {
      fprintf(stderr, "no IPv6 here\n");
      exit(77);
    }
    die("socket");
  }
  if (bind(listener, (struct sockaddr *)&addr, len) != 0) {
    if (v6 && errno == EADDRNOTAVAIL) {
      fprintf(stderr, "no IPv6 loopback here\n");
      exit(77);
    }
    die("bind");
  }
  if (listen(listener, 4) != 0 || getsockname(listener, (struct sockaddr *)&addr, &len) != 0) die("listen");
  fds[0] = socket(addr.ss_family, SOCK_STREAM, 0);
  if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&addr, len) != 0) die("connect");
  fds[1] = accept(listener, NULL, NULL);
  if (fds[1] < 0) die("accept");
  /* The listener stays open in both processes: a listening socket at restart. */
}

/* The two ends in separate programs, for hosts of their own: serve PORT
 * RECORDS listens on every address of its host and prints the steps;
 * connect ADDR PORT RECORDS is the other end. */
static int one_end(int argc, char **argv) {
  int serve = strcmp(argv[1], "serve") == 0;
  if (argc != (serve ? 4 : 5)) {
    fprintf(stderr, "usage: socket_stream serve PORT RECORDS | connect ADDR PORT RECORDS\n");
    return 2;
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[serve ? 2 : 3]))};
  if (!serve && inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) die("address");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (serve) {
    int one = 1, l = fd;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0) die("listen");
    printf("listening\n");
    fflush(stdout);
    if ((fd = accept(l, NULL, NULL)) < 0) die("accept");
    close(l);
  } else {
    for (int i = 0; connect(fd, (struct sockaddr *)&a, sizeof a) != 0; ++i) {
      if (i == 200) die("connect");
      close(fd);
      sleep_ms(50);
      if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) die("socket");
    }
  }
  struct side s = {.fd = fd, .tag = serve ? 'S' : 'C', .other = serve ? 'C' : 'S', .total = atol(argv[serve ? 3 : 4])};
  run(&s, serve);
  printf("%s received %ld\n", serve ? "server" : "client", s.received);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "serve") == 0 || strcmp(argv[1], "connect") == 0)) return one_end(argc, argv);
  if (argc != 3) {
    fprintf(stderr, "usage: socket_stream tcp|tcp6|unix RECORDS\n");
    return 2;
  }
  long total = atol(argv[2]);
  int fds[2];
  connect_pair(argv[1], fds);
  printf("mode %s, %ld records each way\n", argv[1], total);
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(fds[0]);
    struct side s = {.fd = fds[1], .tag = 'C', .other = 'P', .total = total};
    run(&s, 0);
    _exit(0);
  }
  close(fds[1]);
  struct side s = {.fd = fds[0], .tag = 'P', .other = 'C', .total = total};
  run(&s, 1);
  int status;
  if (waitpid(child, &status, 0) != child) die("waitpid");
  printf("parent received %ld, child exited with %d\n", s.received, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
