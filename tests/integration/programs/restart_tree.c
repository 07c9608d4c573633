/* restart_tree WORKERS STEPS PAUSE_MS: a process tree three levels deep.
 * The root forks WORKERS workers; worker 0 makes its own session, the others
 * their own process groups; each worker forks a helper that stays in its
 * group. Every process checks its parent each step and dies with a telling
 * status if it changed. After its steps the root signals each worker's
 * whole process group with kill(-pgid, SIGUSR1); a worker or helper that
 * gets no signal exits with a telling status. Then the root waits for each
 * worker by pid and prints what it learned: exit statuses, groups, sessions,
 * parents.
 * Two more children end at once and stay zombies until the end: one exits
 * with status 7, one is killed by SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Runs `steps` steps; exits 90 if the parent changes on the way. */
static void check_parent_for(pid_t parent, int steps, long ms) {
  for (int s = 0; s < steps; ++s) {
    if (getppid() != parent) _exit(90);
    pause_ms(ms);
  }
}

static volatile sig_atomic_t g_usr1;

static void on_usr1(int sig) {
  (void)sig;
  g_usr1 = 1;
}

/* Waits up to 20 s for the root's kill(-pgid, SIGUSR1); exits `status` if it
 * never comes. */
static void await_group_signal(int status) {
  for (int i = 0; i < 2000 && !g_usr1; ++i) pause_ms(10);
  if (!g_usr1) _exit(status);
}

static void worker(int index, pid_t root, int steps, long ms) {
  signal(SIGUSR1, on_usr1);
  if (index == 0) {
    if (setsid() < 0) _exit(91);
  } else if (setpgid(0, 0) != 0) {
    _exit(92);
  }
  pid_t self = getpid();
  pid_t helper = fork();
  if (helper < 0) _exit(93);
  if (helper == 0) {
    check_parent_for(self, steps, ms);
    if (getpgrp() != self) _exit(94);
    await_group_signal(97);
    _exit(10 + index);
  }
  check_parent_for(root, steps, ms);
  await_group_signal(98);
  int status = 0;
  if (waitpid(helper, &status, 0) != helper) _exit(95);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 10 + index) _exit(96);
  _exit(20 + index);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s WORKERS STEPS PAUSE_MS\n", argv[0]);
    return 2;
  }
  int workers = atoi(argv[1]), steps = atoi(argv[2]);
  long ms = atol(argv[3]);
  pid_t root = getpid();
  pid_t pids[64];
  if (workers < 1 || workers > 64) return 2;
  for (int i = 0; i < workers; ++i) {
    pids[i] = fork();
    if (pids[i] < 0) {
      perror("fork");
      return 1;
    }
    if (pids[i] == 0) worker(i, root, steps, ms);
  }
  pid_t quitter = fork();
  if (quitter == 0) _exit(7);
  pid_t victim = fork();
  if (victim == 0) {
    signal(SIGTERM, SIG_DFL);
    kill(getpid(), SIGTERM);
    _exit(99);
  }
  if (quitter < 0 || victim < 0) {
    perror("fork");
    return 1;
  }
  for (int s = 1; s <= steps; ++s) {
    printf("step %d\n", s);
    fflush(stdout);
    pause_ms(ms);
  }
  for (int i = 0; i < workers; ++i)
    if (kill(-pids[i], SIGUSR1) != 0) printf("worker %d: kill(-pgid, SIGUSR1) failed\n", i);
  for (int i = 0; i < workers; ++i) {
    int sid_ok = getsid(pids[i]) == (i == 0 ? pids[i] : getsid(0));
    int pgid_ok = getpgid(pids[i]) == pids[i];
    int status = 0;
    pid_t got = waitpid(pids[i], &status, 0);
    printf("worker %d: waited %s, exit %d, own group %s, session %s\n", i, got == pids[i] ? "by pid" : "WRONG PID",
           WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), pgid_ok ? "yes" : "no", sid_ok ? "ok" : "wrong");
  }
  int status = 0;
  pid_t got = waitpid(quitter, &status, 0);
  printf("zombie quitter: waited %s, %s %d\n", got == quitter ? "by pid" : "WRONG PID",
         WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  status = 0;
  got = waitpid(victim, &status, 0);
  printf("zombie victim: waited %s, %s %d\n", got == victim ? "by pid" : "WRONG PID",
         WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  return 0;
}
