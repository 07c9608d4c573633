/* POSIX timers counting expirations across checkpoints and restarts.
 *
 * usage: posix_timers [STEPS=40] [TICKS_PER_STEP=10]
 *
 * Six timers, all from timer_create:
 *   mono  CLOCK_MONOTONIC, SIGEV_SIGNAL (SIGRTMIN+1), every 10 ms: the clock of
 *         the run; each step waits for TICKS_PER_STEP more of its expirations,
 *         so a restart that loses it stalls the program (the test times out).
 *   real  CLOCK_REALTIME, SIGEV_THREAD, every 20 ms: counts in a thread per expiry.
 *   cpu   the process's CPU-time clock (clock_getcpuclockid(0)), SIGEV_SIGNAL
 *         (SIGRTMIN+2), every 10 ms of CPU time; the main thread spins.
 *   thread the main thread's CPU-time clock (CLOCK_THREAD_CPUTIME_ID),
 *         SIGEV_SIGNAL (SIGRTMIN+3), every 10 ms of its CPU time.
 *   tid   CLOCK_MONOTONIC, SIGEV_THREAD_ID (SIGRTMIN+4) to a worker thread
 *         that takes it with sigwaitinfo, every 20 ms.
 *   none  CLOCK_MONOTONIC, SIGEV_NONE, one-shot in an hour: only read back.
 * Expirations are 1 + timer_getoverrun() for each delivery.
 *
 * Tolerance, stated here and checked by the program itself (the output only
 * says whether each check held, so it is the same in every run):
 *   mono: at least STEPS * TICKS_PER_STEP (the loop's own condition).
 *   real: within 10% (and at least 5) of mono's expirations / 2 (same
 *         wall-clock time, twice the period). Restarts keep both timers'
 *         remaining time, so the ratio holds across them; a checkpoint may
 *         lose or add about one expiry of each.
 *   cpu:  within 10% (and at least 5) of the CPU time the process used / 10 ms,
 *         where the CPU time is summed over every incarnation (a restarted
 *         process's CPU clock starts again, counting the restore's own work
 *         before the timers are armed again: that part is left out).
 *   thread: the same, with the main thread's CPU time.
 *   tid:  as real.
 * At every step: every timer_t still answers timer_gettime and
 * timer_getoverrun, the kernel lists exactly its six timers under the ids
 * timer_create gave (/proc/self/timers), every delivered siginfo carries its timer's id and
 * value, and the SIGEV_NONE timer's time left never grows and stays in (0, 1h].
 * At the end, a SIGEV_THREAD timer made then fires, beside the first one.
 * The CPU-time clock ids of the worker thread (pthread_getcpuclockid) and of
 * the process by its pid (clock_getcpuclockid(getpid())), taken at the start,
 * still answer clock_gettime at every step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { MONO, REAL, CPU, THREAD, TID, NONE, COUNT };
static const char *const kName[COUNT] = {"mono", "real", "cpu", "thread", "tid", "none"};
static timer_t ids[COUNT];

static atomic_long expirations[COUNT];
static atomic_int bad_deliveries;
/* The last malformed delivery, printed to stderr at the end to tell why. */
static atomic_int bad_which = -1, bad_code, bad_value, bad_over, bad_pid;

static void note_bad(int which, int code, int value, int over, int pid) {
  atomic_store(&bad_pid, pid);
  atomic_fetch_add(&bad_deliveries, 1);
  atomic_store(&bad_which, which);
  atomic_store(&bad_code, code);
  atomic_store(&bad_value, value);
  atomic_store(&bad_over, over);
}

static void on_signal(int sig, siginfo_t *info, void *uc) {
  (void)uc;
  int which = sig == SIGRTMIN + 1 ? MONO : sig == SIGRTMIN + 2 ? CPU : THREAD;
  int over = timer_getoverrun(ids[which]);
  if (info->si_code != SI_TIMER || info->si_value.sival_int != which || over < 0)
    note_bad(which, info->si_code, info->si_value.sival_int, over, info->si_pid);
  atomic_fetch_add(&expirations[which], 1 + (over > 0 ? over : 0));
}

static void on_thread(union sigval v) {
  int over = timer_getoverrun(ids[REAL]);
  if (v.sival_int != REAL || over < 0) note_bad(REAL, SI_TIMER, v.sival_int, over, 0);
  atomic_fetch_add(&expirations[REAL], 1 + (over > 0 ? over : 0));
}

/* Takes the tid timer's signals (blocked in every thread). */
static atomic_int worker_tid;
static void *worker(void *arg) {
  (void)arg;
  atomic_store(&worker_tid, (int)syscall(SYS_gettid));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN + 4);
  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&set, &info) < 0) continue;
    /* A signal of this thread's that was pending at a checkpoint comes back
     * after the restart raised with tgkill (SI_TKILL, no value): the signal
     * plugin cannot read another thread's queued siginfo. glibc's
     * sigwaitinfo reports SI_TKILL as SI_USER, sent by this process. It is
     * still one expiry. */
    if (info.si_code == SI_TKILL || (info.si_code == SI_USER && info.si_pid == getpid())) {
      atomic_fetch_add(&expirations[TID], 1);
      continue;
    }
    int over = timer_getoverrun(ids[TID]);
    if (info.si_code != SI_TIMER || info.si_value.sival_int != TID || (pid_t)syscall(SYS_gettid) != atomic_load(&worker_tid) ||
        over < 0)
      note_bad(TID, info.si_code, info.si_value.sival_int, over, info.si_pid);
    atomic_fetch_add(&expirations[TID], 1 + (over > 0 ? over : 0));
  }
  return NULL;
}

static atomic_int late_fired;
static void on_late(union sigval v) {
  (void)v;
  atomic_store(&late_fired, 1);
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int64_t ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

/* Does /proc/self/timers list exactly our timers, under the ids in `ids`?
 * (glibc's timer_t for a SIGEV_THREAD timer is not the kernel's id: that one
 * only counts.) */
static int kernel_lists_our_ids(void) {
  FILE *f = fopen("/proc/self/timers", "r");
  if (!f) return 0;
  char line[256];
  int found[COUNT] = {0}, listed = 0;
  while (fgets(line, sizeof line, f)) {
    long id;
    if (sscanf(line, "ID: %ld", &id) != 1) continue;
    listed++;
    for (int i = 0; i < COUNT; i++)
      if ((long)(intptr_t)ids[i] == id) found[i] = 1;
  }
  fclose(f);
  for (int i = 0; i < COUNT; i++)
    if (!found[i] && i != REAL) return 0;
  return listed == COUNT;
}

static int within(long got, long want) {
  long slack = want / 10 > 5 ? want / 10 : 5;
  return got >= want - slack && got <= want + slack;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
  int ticks_per_step = argc > 2 ? atoi(argv[2]) : 10;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGRTMIN + 1, &sa, NULL) != 0 || sigaction(SIGRTMIN + 2, &sa, NULL) != 0 ||
      sigaction(SIGRTMIN + 3, &sa, NULL) != 0)
    die("sigaction");

  sigset_t tid_signal;
  sigemptyset(&tid_signal);
  sigaddset(&tid_signal, SIGRTMIN + 4);
  if (pthread_sigmask(SIG_BLOCK, &tid_signal, NULL) != 0) die("pthread_sigmask");
  pthread_t worker_thread;
  if (pthread_create(&worker_thread, NULL, worker, NULL) != 0) die("pthread_create");
  while (atomic_load(&worker_tid) == 0) sched_yield();

  clockid_t cpu_clock;
  if (clock_getcpuclockid(0, &cpu_clock) != 0) die("clock_getcpuclockid");
  struct sigevent sev[COUNT];
  memset(sev, 0, sizeof sev);
  sev[MONO].sigev_notify = SIGEV_SIGNAL;
  sev[MONO].sigev_signo = SIGRTMIN + 1;
  sev[REAL].sigev_notify = SIGEV_THREAD;
  sev[REAL].sigev_notify_function = on_thread;
  sev[CPU].sigev_notify = SIGEV_SIGNAL;
  sev[CPU].sigev_signo = SIGRTMIN + 2;
  sev[THREAD].sigev_notify = SIGEV_SIGNAL;
  sev[THREAD].sigev_signo = SIGRTMIN + 3;
  sev[TID].sigev_notify = SIGEV_THREAD_ID;
  sev[TID].sigev_signo = SIGRTMIN + 4;
  sev[TID]._sigev_un._tid = atomic_load(&worker_tid);
  sev[NONE].sigev_notify = SIGEV_NONE;
  const clockid_t clocks[COUNT] = {CLOCK_MONOTONIC, CLOCK_REALTIME, cpu_clock, CLOCK_THREAD_CPUTIME_ID,
                                   CLOCK_MONOTONIC, CLOCK_MONOTONIC};
  const long period_ms[COUNT] = {10, 20, 10, 10, 20, 0};
  for (int i = 0; i < COUNT; i++) {
    sev[i].sigev_value.sival_int = i;
    if (timer_create(clocks[i], &sev[i], &ids[i]) != 0) die(kName[i]);
  }
  clockid_t worker_clock, pid_clock;
  if (pthread_getcpuclockid(worker_thread, &worker_clock) != 0) die("pthread_getcpuclockid");
  if (clock_getcpuclockid(getpid(), &pid_clock) != 0) die("clock_getcpuclockid");
  timer_t created[COUNT];
  memcpy(created, ids, sizeof ids);
  for (int i = 0; i < COUNT; i++) {
    struct itimerspec it = {{0, period_ms[i] * 1000000}, {0, period_ms[i] * 1000000}};
    if (i == NONE) it = (struct itimerspec){{0, 0}, {3600, 0}};
    if (timer_settime(ids[i], 0, &it, NULL) != 0) die("timer_settime");
  }

  int64_t cpu_used = 0, thread_used = 0, none_left = 3600LL * 1000000000;
  struct timespec start;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
  int64_t cpu_last = ns(&start);  /* counted from the moment the timers run */
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
  int64_t thread_last = ns(&start);
  for (int step = 1; step <= steps; step++) {
    long target = (long)step * ticks_per_step;
    while (atomic_load(&expirations[MONO]) < target) {
      struct timespec cpu_now, thread_now;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &thread_now);
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_now);
      /* A restart between two reads of this tight loop: the clocks are a new
       * process's, and what they show so far is mostly the restore's own
       * work, done before the timers were armed again; that segment is not
       * counted. This thread's CPU time cannot otherwise move more than a
       * few microseconds between two reads (it does not run while it is
       * descheduled, and the signal handlers are short). */
      int64_t thread_step = ns(&thread_now) - thread_last;
      if (thread_step >= 0 && thread_step < 20 * 1000000) {
        cpu_used += ns(&cpu_now) >= cpu_last ? ns(&cpu_now) - cpu_last : 0;
        thread_used += thread_step;
      }
      cpu_last = ns(&cpu_now);
      thread_last = ns(&thread_now);
    }
    int ok = memcmp(created, ids, sizeof ids) == 0 && kernel_lists_our_ids();
    struct timespec cpu_now;
    if (clock_gettime(worker_clock, &cpu_now) != 0 || clock_gettime(pid_clock, &cpu_now) != 0) ok = 0;
    for (int i = 0; i < COUNT; i++) {
      struct itimerspec left;
      if (timer_gettime(ids[i], &left) != 0 || timer_getoverrun(ids[i]) < 0) ok = 0;
      else if (i != NONE && ns(&left.it_interval) != period_ms[i] * 1000000) ok = 0;
      else if (i == NONE) {
        if (ns(&left.it_value) <= 0 || ns(&left.it_value) > none_left) ok = 0;
        none_left = ns(&left.it_value);
      }
    }
    printf("step %d mono>=%ld timers %s\n", step, target, ok ? "ok" : "BROKEN");
    fflush(stdout);
  }
  /* A SIGEV_THREAD timer made now (after the restarts) fires, and the old
   * one goes on firing beside it. */
  struct sigevent late;
  memset(&late, 0, sizeof late);
  late.sigev_notify = SIGEV_THREAD;
  late.sigev_notify_function = on_late;
  timer_t late_id;
  if (timer_create(CLOCK_MONOTONIC, &late, &late_id) != 0) die("timer_create late");
  struct itimerspec once = {{0, 0}, {0, 10000000}};
  if (timer_settime(late_id, 0, &once, NULL) != 0) die("timer_settime late");
  long real_before = atomic_load(&expirations[REAL]);
  for (int waited = 0; waited < 200 && (!atomic_load(&late_fired) || atomic_load(&expirations[REAL]) < real_before + 3);
       waited++) {
    struct timespec ten_ms = {0, 10000000};
    nanosleep(&ten_ms, NULL);
  }
  printf("a SIGEV_THREAD timer made at the end fires: %s; the first one still does: %s\n",
         atomic_load(&late_fired) ? "yes" : "no", atomic_load(&expirations[REAL]) >= real_before + 3 ? "yes" : "no");
  if (timer_delete(late_id) != 0) die("timer_delete late");
  for (int i = 0; i < COUNT; i++)
    if (timer_delete(ids[i]) != 0) die("timer_delete");

  long mono = atomic_load(&expirations[MONO]), real = atomic_load(&expirations[REAL]);
  long cpu = atomic_load(&expirations[CPU]), thread = atomic_load(&expirations[THREAD]);
  printf("mono expirations at least %ld: %s\n", (long)steps * ticks_per_step,
         mono >= (long)steps * ticks_per_step ? "yes" : "no");
  printf("real expirations within 10%% of mono/2: %s\n", within(real, mono / 2) ? "yes" : "no");
  printf("tid expirations within 10%% of mono/2: %s\n", within(atomic_load(&expirations[TID]), mono / 2) ? "yes" : "no");
  printf("cpu expirations within 10%% of cpu time / 10 ms: %s\n", within(cpu, (long)(cpu_used / 10000000)) ? "yes" : "no");
  printf("thread expirations within 10%% of its cpu time / 10 ms: %s\n",
         within(thread, (long)(thread_used / 10000000)) ? "yes" : "no");
  printf("malformed deliveries: %d\n", atomic_load(&bad_deliveries));
  fprintf(stderr, "mono %ld real %ld tid %ld cpu %ld cpu_used_ms %ld thread %ld thread_used_ms %ld malformed %d\n", mono,
          real, atomic_load(&expirations[TID]), cpu, (long)(cpu_used / 1000000), thread, (long)(thread_used / 1000000),
          atomic_load(&bad_deliveries));
  if (atomic_load(&bad_which) >= 0)
    fprintf(stderr, "last malformed delivery: timer %s, si_code %d, value %d, overrun %d, si_pid %d (this process: %d)\n",
            kName[atomic_load(&bad_which)], atomic_load(&bad_code), atomic_load(&bad_value), atomic_load(&bad_over),
            atomic_load(&bad_pid), (int)getpid());
  return 0;
}
