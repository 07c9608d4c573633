/* socket_kinds MODE STEPS: sockets of several kinds between processes of one
 * computation, each with traffic in flight at any moment. Every step prints
 * "step N" and what was received in it; any message lost, repeated,
 * reordered, cut or glued to another shows in the output or fails a check
 * (exit 3).
 *   messages  a UNIX datagram pair and a seqpacket pair between parent and
 *             child: the child sends bursts of messages of varying sizes
 *             (0 to 6000 bytes) on both, faster than the parent reads them.
 *   named     a server with a named UNIX stream listener (in the working
 *             directory) and an abstract-namespace datagram socket; three
 *             client processes connect to the listener, send requests and
 *             read the answers, and send datagrams to the abstract name.
 *   listener  a TCP server on 127.0.0.1: at every step a new client
 *             process connects, sends a request and prints the answer, so
 *             clients that connect after a restart must find the listener
 *             again.
 *   udp       two UDP sockets on 127.0.0.1, bound and connected to each
 *             other: the child sends numbered datagrams of varying sizes
 *             as far ahead as the parent's credit allows (UDP drops what
 *             does not fit), the parent reads them slowly and grants more
 *             credit with a datagram of its own; datagrams wait in both
 *             receive queues at any moment.
 *   pending   at every step a new client connects to a UNIX listener and a
 *             TCP listener and waits for a greeting on both; the server
 *             accepts only 300 ms later, so checkpoints find connections
 *             waiting in the accept queues. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree_common.h"

static int steps;

static size_t message_size(long n) { return (size_t)((n * 7919) % 6001); }

static void fill_message(char *buf, long n, size_t len) {
  for (size_t i = 0; i < len; ++i) buf[i] = (char)('a' + (n + (long)i) % 26);
  if (len >= sizeof(long)) memcpy(buf, &n, sizeof n);
}

static void check_message(const char *what, const char *buf, ssize_t got, long n) {
  size_t len = message_size(n);
  char want[6001];
  fill_message(want, n, len);
  if (got != (ssize_t)len || memcmp(buf, want, len) != 0) {
    fprintf(stderr, "%s: message %ld: got %zd bytes, want %zu\n", what, n, got, len);
    exit(3);
  }
}

/* ---- messages ---- */

static int peer_gone(int err) { return err == ECONNREFUSED || err == EPIPE || err == ECONNRESET; }

static void messages_child(int dgram, int seqpacket) {
  static char buf[6001];
  for (long n = 0;; ++n) {
    size_t len = message_size(n);
    fill_message(buf, n, len);
    /* The parent closing its ends (with messages unread) ends the child. */
    if (send(dgram, buf, len, 0) != (ssize_t)len) _exit(peer_gone(errno) ? 0 : 81);
    if (send(seqpacket, buf, len, MSG_NOSIGNAL) != (ssize_t)len) _exit(peer_gone(errno) ? 0 : 82);
  }
}

static int messages(void) {
  int d[2], s[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, d) != 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, s) != 0) die("socketpair");
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(d[0]);
    close(s[0]);
    messages_child(d[1], s[1]);
  }
  close(d[1]);
  close(s[1]);
  static char buf[8192];
  long next = 0;
  for (int step = 1; step <= steps; ++step) {
    long bytes = 0;
    for (int i = 0; i < 20; ++i, ++next) {
      ssize_t n = recv(d[0], buf, sizeof buf, 0);
      check_message("datagram", buf, n, next);
      n = recv(s[0], buf, sizeof buf, 0);
      check_message("seqpacket", buf, n, next);
      bytes += n;
    }
    printf("step %d: messages up to %ld, %ld bytes\n", step, next, bytes);
    fflush(stdout);
    sleep_ms(20);
  }
  close(d[0]);
  close(s[0]);
  int status;
  waitpid(child, &status, 0);
  printf("child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

/* ---- named ---- */

enum { kClients = 3, kRequest = 64 };

static socklen_t abstract_address(struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  int len = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "ckpt-test-%d", (int)getpid());
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
}

static void named_client(int id, const char *path, struct sockaddr_un *abstract, socklen_t abstract_len) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (d < 0) die("socket");
  for (long n = 1;; ++n) {
    char req[kRequest] = {0}, answer[kRequest];
    snprintf(req, sizeof req, "client %d request %ld", id, n);
    if (write_all(fd, req, sizeof req) != 0) _exit(0);
    ssize_t got = read_full(fd, answer, sizeof answer);
    if (got <= 0) _exit(0); /* the server is done (ECONNRESET: it left our next request unread) */
    char want[kRequest] = {0};
    snprintf(want, sizeof want, "answer to client %d request %ld", id, n);
    if (got != kRequest || memcmp(answer, want, sizeof want) != 0) {
      fprintf(stderr, "client %d: wrong answer (%zd bytes) %s\n", id, got, answer);
      _exit(3);
    }
    snprintf(req, sizeof req, "client %d datagram %ld", id, n);
    if (sendto(d, req, strlen(req), 0, (struct sockaddr *)abstract, abstract_len) < 0) die("sendto");
    sleep_ms(5 + 3 * id);
  }
}

static void take_datagrams(int d, long *datagrams) {
  char buf[128];
  ssize_t n;
  while ((n = recv(d, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
    buf[n] = '\0';
    int id;
    long k;
    if (sscanf(buf, "client %d datagram %ld", &id, &k) != 2 || id < 0 || id >= kClients || k != datagrams[id] + 1) {
      fprintf(stderr, "server: unexpected datagram '%s'\n", buf);
      exit(3);
    }
    datagrams[id] = k;
  }
}

static int named(void) {
  const char *path = "socket_kinds.sock";
  unlink(path);
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 8) != 0) die("listen");
  struct sockaddr_un abstract;
  socklen_t abstract_len = abstract_address(&abstract);
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (d < 0 || bind(d, (struct sockaddr *)&abstract, abstract_len) != 0) die("bind abstract");
  pid_t pids[kClients];
  for (int i = 0; i < kClients; ++i) {
    pids[i] = fork();
    if (pids[i] < 0) die("fork");
    if (pids[i] == 0) {
      close(listener);
      close(d);
      named_client(i, path, &abstract, abstract_len);
    }
  }
  int conns[kClients];
  long served[kClients] = {0}, datagrams[kClients] = {0};
  for (int i = 0; i < kClients; ++i)
    if ((conns[i] = accept(listener, NULL, NULL)) < 0) die("accept");
  for (int step = 1; step <= steps; ++step) {
    /* Each step: 10 requests from every client, and their datagrams. */
    for (int round = 0; round < 10; ++round)
      for (int i = 0; i < kClients; ++i) {
        char req[kRequest], answer[kRequest + 16] = {0};
        /* A full datagram queue blocks a client's sendto: take the
         * datagrams while waiting for its next request. */
        for (;;) {
          struct pollfd p[2] = {{conns[i], POLLIN, 0}, {d, POLLIN, 0}};
          if (poll(p, 2, -1) < 0 && errno != EINTR) die("poll");
          if (p[1].revents & POLLIN) take_datagrams(d, datagrams);
          if (p[0].revents & (POLLIN | POLLHUP)) break;
        }
        if (read_full(conns[i], req, sizeof req) != kRequest) die("read request");
        int id;
        long n;
        if (sscanf(req, "client %d request %ld", &id, &n) != 2 || n != served[i] + 1) {
          fprintf(stderr, "server: unexpected request '%s' on connection %d\n", req, i);
          exit(3);
        }
        served[i] = n;
        snprintf(answer, sizeof answer, "answer to %s", req);
        if (write_all(conns[i], answer, kRequest) != 0) die("write answer");
      }
    take_datagrams(d, datagrams);
    printf("step %d: served %ld %ld %ld\n", step, served[0], served[1], served[2]);
    fflush(stdout);
  }
  for (int i = 0; i < kClients; ++i) close(conns[i]);
  for (int i = 0; i < kClients; ++i) waitpid(pids[i], NULL, 0);
  unlink(path);
  printf("clients done\n");
  return 0;
}

/* ---- listener ---- */

static int listener_mode(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 16) != 0 ||
      getsockname(l, (struct sockaddr *)&a, &len) != 0)
    die("listen");
  for (int step = 1; step <= steps; ++step) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      close(l);
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) != 0) die("client connect");
      char req[kRequest] = {0}, answer[kRequest];
      snprintf(req, sizeof req, "request %d", step);
      if (write_all(c, req, sizeof req) != 0 || read_full(c, answer, sizeof answer) != kRequest) die("client exchange");
      printf("step %d: client got '%s'\n", step, answer);
      fflush(stdout);
      _exit(0);
    }
    int s = accept(l, NULL, NULL);
    if (s < 0) die("accept");
    char req[kRequest], answer[kRequest + 16] = {0};
    if (read_full(s, req, sizeof req) != kRequest) die("server read");
    sleep_ms(50);  /* the request waits here: checkpoints find it half served */
    snprintf(answer, sizeof answer, "served %s", req);
    if (write_all(s, answer, kRequest) != 0) die("server write");
    close(s);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "client %d failed\n", step);
      return 1;
    }
  }
  printf("all %d clients served\n", steps);
  return 0;
}

/* ---- udp ---- */

enum { kCredit = 40 };

static int udp_mode(void) {
  int p = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in pa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, ca = pa;
  socklen_t len = sizeof pa;
  if (p < 0 || c < 0 || bind(p, (struct sockaddr *)&pa, sizeof pa) != 0 || bind(c, (struct sockaddr *)&ca, sizeof ca) != 0 ||
      getsockname(p, (struct sockaddr *)&pa, &len) != 0 || getsockname(c, (struct sockaddr *)&ca, &len) != 0 ||
      connect(p, (struct sockaddr *)&ca, sizeof ca) != 0 || connect(c, (struct sockaddr *)&pa, sizeof pa) != 0)
    die("udp setup");
  pid_t child = fork();
  if (child < 0) die("fork");
  static char buf[6001];
  if (child == 0) {
    close(p);
    long allowed = kCredit, n = 0;
    for (;;) {
      while (n < allowed) {
        size_t size = message_size(n) % 1400 + 1;
        fill_message(buf, n, size);
        if (send(c, buf, size, 0) != (ssize_t)size) _exit(81);
        ++n;
      }
      long credit;
      ssize_t got = recv(c, &credit, sizeof credit, 0);
      if (got != sizeof credit) _exit(82);
      if (credit < 0) _exit(0);
      allowed = credit;
    }
  }
  close(c);
  long next = 0;
  for (int step = 1; step <= steps; ++step) {
    for (int i = 0; i < 20; ++i, ++next) {
      ssize_t got = recv(p, buf, sizeof buf, 0);
      size_t size = message_size(next) % 1400 + 1;
      char want[1401];
      fill_message(want, next, size);
      if (got != (ssize_t)size || memcmp(buf, want, size) != 0) {
        fprintf(stderr, "udp: datagram %ld: got %zd bytes, want %zu\n", next, got, size);
        return 3;
      }
      if ((next + 1) % 10 == 0) {
        long credit = next + 1 + kCredit;
        if (send(p, &credit, sizeof credit, 0) != sizeof credit) die("send credit");
      }
    }
    printf("step %d: datagrams up to %ld\n", step, next);
    fflush(stdout);
    sleep_ms(20);
  }
  long done = -1;
  send(p, &done, sizeof done, 0);
  int status;
  waitpid(child, &status, 0);
  printf("child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

/* ---- pending ---- */

static int pending_mode(void) {
  const char *path = "socket_pending.sock";
  unlink(path);
  struct sockaddr_un u = {.sun_family = AF_UNIX};
  snprintf(u.sun_path, sizeof u.sun_path, "%s", path);
  int ul = socket(AF_UNIX, SOCK_STREAM, 0);
  if (ul < 0 || bind(ul, (struct sockaddr *)&u, sizeof u) != 0 || listen(ul, 8) != 0) die("unix listen");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int tl = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(tl, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as servers do: see the README */
  if (tl < 0 || bind(tl, (struct sockaddr *)&a, sizeof a) != 0 || listen(tl, 8) != 0 ||
      getsockname(tl, (struct sockaddr *)&a, &len) != 0)
    die("tcp listen");
  for (int step = 1; step <= steps; ++step) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      close(ul);
      close(tl);
      int uc = socket(AF_UNIX, SOCK_STREAM, 0), tc = socket(AF_INET, SOCK_STREAM, 0);
      if (uc < 0 || tc < 0 || connect(uc, (struct sockaddr *)&u, sizeof u) != 0 ||
          connect(tc, (struct sockaddr *)&a, sizeof a) != 0)
        die("client connect");
      char g1[kRequest], g2[kRequest];
      if (read_full(uc, g1, sizeof g1) != kRequest || read_full(tc, g2, sizeof g2) != kRequest) die("client read");
      printf("step %d: greeted '%s' and '%s'\n", step, g1, g2);
      fflush(stdout);
      _exit(0);
    }
    sleep_ms(300); /* the client waits in both accept queues meanwhile */
    int us = accept(ul, NULL, NULL), ts = accept(tl, NULL, NULL);
    if (us < 0 || ts < 0) die("accept");
    char g[kRequest] = {0};
    snprintf(g, sizeof g, "hello %d over unix", step);
    if (write_all(us, g, sizeof g) != 0) die("write");
    snprintf(g, sizeof g, "hello %d over tcp", step);
    if (write_all(ts, g, sizeof g) != 0) die("write");
    close(us);
    close(ts);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "client %d failed\n", step);
      return 1;
    }
  }
  unlink(path);
  printf("all %d clients greeted\n", steps);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: socket_kinds messages|named|listener|pending|udp STEPS\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  steps = atoi(argv[2]);
  if (!strcmp(argv[1], "messages")) return messages();
  if (!strcmp(argv[1], "named")) return named();
  if (!strcmp(argv[1], "listener")) return listener_mode();
  if (!strcmp(argv[1], "pending")) return pending_mode();
  if (!strcmp(argv[1], "udp")) return udp_mode();
  fprintf(stderr, "socket_kinds: unknown mode %s\n", argv[1]);
  return 2;
}
