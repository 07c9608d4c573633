/* Interval timer ticks and a signal kept pending across a checkpoint.
 *
 * usage: signals_timer [STEPS=40] [TICKS_PER_STEP=10]
 *
 * An ITIMER_REAL timer fires every 10 ms; a SA_SIGINFO handler counts the
 * SIGALRM ticks and checks each one is what the kernel sends for an itimer
 * (si_signo SIGALRM, si_code SI_KERNEL). Each step waits for TICKS_PER_STEP
 * more ticks, so the program only makes progress while the timer is armed:
 * if a restart loses the timer, the program stalls and the test times out.
 *
 * SIGUSR1 is blocked and raised at the start, so it stays pending through the
 * whole run (and any checkpoint/restart in between). Two steps before the end
 * the program checks it is still pending, unblocks it, and its handler must
 * run exactly once.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t ticks;
static volatile sig_atomic_t bad_ticks;
static volatile sig_atomic_t usr1_runs;

static void on_alarm(int sig, siginfo_t *info, void *uc) {
  (void)uc;
  if (sig != SIGALRM || info->si_signo != SIGALRM || info->si_code != SI_KERNEL) bad_ticks++;
  ticks++;
}

static void on_usr1(int sig) {
  (void)sig;
  usr1_runs++;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
  int ticks_per_step = argc > 2 ? atoi(argv[2]) : 10;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_alarm;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, NULL) != 0) die("sigaction SIGALRM");

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) != 0) die("sigaction SIGUSR1");

  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &usr1, &old) != 0) die("sigprocmask");
  if (raise(SIGUSR1) != 0) die("raise");

  struct itimerval it = {{0, 10000}, {0, 10000}};
  if (setitimer(ITIMER_REAL, &it, NULL) != 0) die("setitimer");

  for (int step = 1; step <= steps; step++) {
    int target = step * ticks_per_step;
    /* pause() returns after any handled signal; re-check the count each time. */
    while (ticks < target) pause();

    struct itimerval now;
    if (getitimer(ITIMER_REAL, &now) != 0) die("getitimer");
    printf("step %d ticks>=%d interval %ldus\n", step, target, (long)now.it_interval.tv_usec);

    if (step == steps - 2) {
      sigset_t pending;
      if (sigpending(&pending) != 0) die("sigpending");
      printf("SIGUSR1 pending before unblocking: %s\n", sigismember(&pending, SIGUSR1) ? "yes" : "no");
      if (sigprocmask(SIG_SETMASK, &old, NULL) != 0) die("sigprocmask");
      printf("SIGUSR1 handler runs after unblocking: %d\n", (int)usr1_runs);
    }
    fflush(stdout);
  }

  struct itimerval off = {{0, 0}, {0, 0}};
  if (setitimer(ITIMER_REAL, &off, NULL) != 0) die("setitimer");
  printf("done: %d steps, malformed ticks %d, SIGUSR1 handler runs %d\n", steps, (int)bad_ticks, (int)usr1_runs);
  return 0;
}
