/* A pty pair split across two processes: the parent holds the master (with
 * a typed-ahead, unfinished line queued for the slave), the child is the
 * session leader with the slave as its controlling terminal and checks, in a
 * tight loop, that the slave's settings stay what they were. The process
 * holding the master changes them for a moment while it drains and refills
 * the queues at a checkpoint; the child, frozen meanwhile, must never see
 * that (DMTCP's pty2 died of it).
 *
 * usage: pty_settings [STEPS=30] [PAUSE_MS=100]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int same_settings(const struct termios *a, const struct termios *b) {
  return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
         a->c_lflag == b->c_lflag && memcmp(a->c_cc, b->c_cc, sizeof a->c_cc) == 0;
}

static int child(const char *slave_name, int steps, int pause) {
  if (setsid() < 0) {
    perror("setsid");
    return 1;
  }
  int slave = open(slave_name, O_RDWR); /* becomes the controlling terminal */
  struct termios orig, now;
  if (slave < 0 || tcgetattr(slave, &orig) != 0) {
    perror("slave");
    return 1;
  }
  for (int step = 1; step <= steps; ++step) {
    for (long until = now_ms() + pause; now_ms() < until;) {
      if (tcgetattr(slave, &now) != 0 || !same_settings(&orig, &now)) {
        printf("step %d: the slave's settings changed (lflag %#x, was %#x)\n", step, (unsigned)now.c_lflag,
               (unsigned)orig.c_lflag);
        fflush(stdout);
        return 1;
      }
    }
    printf("step %d: settings kept\n", step);
    fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause = argc > 2 ? atoi(argv[2]) : 100;
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || !ptsname(master)) {
    perror("posix_openpt");
    return 1;
  }
  char slave_name[64];
  snprintf(slave_name, sizeof slave_name, "%s", ptsname(master));
  /* An unfinished line nobody reads: the refill puts it back at each
   * checkpoint, chunk by chunk, which keeps the drain's settings in place for
   * a while (a canonical line holds up to 4095 bytes). */
  char typed[3000];
  memset(typed, 'x', sizeof typed);
  if (write(master, typed, sizeof typed) != (ssize_t)sizeof typed) {
    perror("write");
    return 1;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    close(master);
    _exit(child(slave_name, steps, pause));
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    return 1;
  }
  printf("child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
