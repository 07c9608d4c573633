/* socket_outside PORT STEPS: a client of a TCP echo server outside the
 * computation (on 127.0.0.1:PORT). Every step sends "ping N" and prints
 * "step N: echo" once the echo is back. When the connection reads as closed
 * (after a restart: the server is outside, the connection cannot be made
 * again), it prints "step N: closed (end-of-file)" or "(error NAME)", checks
 * that a write fails too, and goes on with its steps without it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tree_common.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: socket_outside PORT STEPS\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int steps = atoi(argv[2]);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  for (int step = 1; step <= steps; ++step) {
    if (fd >= 0) {
      char msg[32], echo[32] = {0};
      int len = snprintf(msg, sizeof msg, "ping %06d\n", step);
      ssize_t got = write_all(fd, msg, (size_t)len) == 0 ? read_full(fd, echo, (size_t)len) : -1;
      if (got == len && memcmp(msg, echo, (size_t)len) == 0) {
        printf("step %d: echo\n", step);
      } else {
        if (got == 0) printf("step %d: closed (end-of-file)\n", step);
        else printf("step %d: closed (error %s)\n", step, strerrorname_np(errno));
        ssize_t w = write(fd, "x", 1);
        printf("write after close: %s\n", w < 0 ? strerrorname_np(errno) : "succeeded");
        close(fd);
        fd = -1;
      }
    } else {
      printf("step %d: no connection\n", step);
    }
    fflush(stdout);
    sleep_ms(50);
  }
  return 0;
}
