/* A TCP server that never sets SO_REUSEADDR, with a connection to itself
 * that it accepted (as DMTCP's frisbee has). Each step it also takes a new
 * connection and closes its end first, as an HTTP server does, which leaves
 * that connection in TIME_WAIT on the listener's port for a minute. A
 * restart right after a kill must still listen on that port, and the
 * application's own SO_REUSEADDR setting must read as it left it (off).
 *
 * usage: socket_timewait [STEPS=30] [PAUSE_MS=100]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Out of the way of the descriptors each step opens. */
enum { kAcceptedFd = 10, kClientFd = 20 };

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int connect_to(const struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
    perror("connect");
    exit(1);
  }
  return fd;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause = argc > 2 ? atoi(argv[2]) : 100;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 8) != 0 ||
      getsockname(listener, (struct sockaddr *)&addr, &len) != 0) {
    perror("listen");
    return 1;
  }
  int client = connect_to(&addr);
  int accepted = accept(listener, NULL, NULL);
  if (accepted < 0 || dup2(accepted, kAcceptedFd) < 0 || dup2(client, kClientFd) < 0) {
    perror("accept");
    return 1;
  }
  close(accepted);
  close(client);

  for (int step = 1; step <= steps; ++step) {
    char c = (char)('a' + step % 26), back = 0;
    int echoed = write(kClientFd, &c, 1) == 1 && read(kAcceptedFd, &back, 1) == 1 && back == c;
    /* A new connection: the listener is there, at its port. The server's
     * end closes first: its TIME_WAIT is on the listener's port. */
    int fresh = connect_to(&addr);
    int taken = accept(listener, NULL, NULL);
    if (taken >= 0) close(taken);
    close(fresh);
    int reuse = -1;
    socklen_t reuse_len = sizeof reuse;
    getsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, &reuse_len);
    printf("step %d: echo %s, new connection %s, listener's SO_REUSEADDR %d\n", step, echoed ? "ok" : "lost",
           taken >= 0 ? "accepted" : "refused", reuse);
    fflush(stdout);
    sleep_ms(pause);
  }
  return 0;
}
