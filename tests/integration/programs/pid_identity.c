/* pid_identity STEPS SIDE_FILE: a process (and one extra thread) checks at
 * every step that the ids it learned at start still hold, through every
 * interface that shows a pid: getpid/gettid/syscall, kill/tgkill/sigqueue
 * with SA_SIGINFO handlers, /proc/<pid> and /proc/self/task/<tid> paths,
 * readlink("/proc/self"). It prints "step N ok" per step (or the failed
 * check, and exits 1). Each step it also writes "<virtual> <kernel>" pids to
 * SIDE_FILE, so a test can tell that a restart changed the kernel's pid. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pid_t g_pid, g_worker_tid;
static volatile sig_atomic_t g_usr1_pid, g_usr1_code, g_usr1_value;
static atomic_int g_usr2_count;
static atomic_int g_usr2_wrong_tid;
static atomic_int g_stop;

static void fail(int step, const char* what) {
  printf("step %d FAIL: %s\n", step, what);
  fflush(stdout);
  exit(1);
}

static void on_usr1(int sig, siginfo_t* info, void* ctx) {
  (void)sig;
  (void)ctx;
  g_usr1_pid = info->si_pid;
  g_usr1_code = info->si_code;
  g_usr1_value = info->si_code == SI_QUEUE ? info->si_value.sival_int : 0;
}

static void on_usr2(int sig, siginfo_t* info, void* ctx) {
  (void)sig;
  (void)ctx;
  if (gettid() != g_worker_tid || info->si_pid != g_pid) atomic_fetch_add(&g_usr2_wrong_tid, 1);
  atomic_fetch_add(&g_usr2_count, 1);
}

static void* worker(void* arg) {
  (void)arg;
  g_worker_tid = gettid();
  while (!atomic_load(&g_stop)) usleep(1000);
  return NULL;
}

/* The kernel's pid, as /proc/self (a symlink the kernel resolves) shows it
 * in the first field of its stat file. */
static long kernel_pid(void) {
  FILE* f = fopen("/proc/self/stat", "r");
  long v = -1;
  if (f) {
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

static void wait_until(volatile sig_atomic_t* flag, int step, const char* what) {
  for (int i = 0; i < 2000 && !*flag; ++i) usleep(1000);
  if (!*flag) fail(step, what);
}

static void check(int step) {
  char path[128], buf[64];
  struct stat a, b;
  if (getpid() != g_pid || syscall(SYS_getpid) != g_pid) fail(step, "getpid changed");
  if (gettid() != g_pid || syscall(SYS_gettid) != g_pid) fail(step, "main thread's gettid is not the pid");
  if (kill(g_pid, 0) != 0 || syscall(SYS_kill, g_pid, 0) != 0) fail(step, "kill(pid, 0) failed");
  if (getpgid(g_pid) != getpgid(0) || getsid(g_pid) != getsid(0)) fail(step, "getpgid/getsid of our own pid differ");

  snprintf(path, sizeof path, "/proc/%d", g_pid);
  if (stat(path, &a) != 0 || stat("/proc/self", &b) != 0 || a.st_ino != b.st_ino)
    fail(step, "/proc/<pid> is not this process");
  snprintf(path, sizeof path, "/proc/%d/status", g_pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) fail(step, "open /proc/<pid>/status");
  close(fd);
  FILE* f = fopen(path, "r");
  if (!f) fail(step, "fopen /proc/<pid>/status");
  fclose(f);
  if (access(path, R_OK) != 0) fail(step, "access /proc/<pid>/status");
  snprintf(path, sizeof path, "/proc/%d/task", g_pid);
  DIR* d = opendir(path);
  if (!d) fail(step, "opendir /proc/<pid>/task");
  closedir(d);
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  if (atoi(buf) != g_pid) fail(step, "readlink /proc/self is not the pid");

  snprintf(path, sizeof path, "/proc/self/task/%d/stat", g_worker_tid);
  if (access(path, R_OK) != 0) fail(step, "/proc/self/task/<tid> of the worker thread");
  snprintf(path, sizeof path, "/proc/%d/task/%d", g_pid, g_worker_tid);
  if (stat(path, &a) != 0) fail(step, "/proc/<pid>/task/<tid> of the worker thread");

  g_usr1_pid = 0;
  if (kill(getpid(), SIGUSR1) != 0) fail(step, "kill(getpid(), SIGUSR1)");
  wait_until(&g_usr1_pid, step, "SIGUSR1 from kill never arrived");
  if (g_usr1_pid != g_pid || g_usr1_code != SI_USER) fail(step, "kill: si_pid is not our pid");
  g_usr1_pid = 0;
  union sigval v = {.sival_int = step};
  if (sigqueue(getpid(), SIGUSR1, v) != 0) fail(step, "sigqueue");
  wait_until(&g_usr1_pid, step, "SIGUSR1 from sigqueue never arrived");
  if (g_usr1_pid != g_pid || g_usr1_code != SI_QUEUE || g_usr1_value != step)
    fail(step, "sigqueue: si_pid is not our pid");

  /* A signal taken with sigtimedwait names its sender by virtual pid too. */
  sigset_t only_urg, old_mask;
  sigemptyset(&only_urg);
  sigaddset(&only_urg, SIGURG);
  pthread_sigmask(SIG_BLOCK, &only_urg, &old_mask);
  /* Thread-directed: the worker thread leaves SIGURG unblocked (and ignored). */
  if (tgkill(getpid(), gettid(), SIGURG) != 0) fail(step, "tgkill(self, SIGURG)");
  siginfo_t taken;
  struct timespec five = {5, 0};
  if (sigtimedwait(&only_urg, &taken, &five) != SIGURG) fail(step, "sigtimedwait did not take SIGURG");
  /* (kernels differ on tgkill's si_code: SI_TKILL or SI_USER) */
  if (taken.si_pid != g_pid) fail(step, "sigtimedwait: si_pid is not our pid");
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

  int before = atomic_load(&g_usr2_count);
  if (tgkill(getpid(), g_worker_tid, SIGUSR2) != 0) fail(step, "tgkill(worker)");
  for (int i = 0; i < 2000 && atomic_load(&g_usr2_count) == before; ++i) usleep(1000);
  if (atomic_load(&g_usr2_count) == before) fail(step, "SIGUSR2 never reached the worker");
  if (atomic_load(&g_usr2_wrong_tid)) fail(step, "SIGUSR2 ran on another thread or with a wrong si_pid");
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 20;
  const char* side = argc > 2 ? argv[2] : NULL;
  g_pid = getpid();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sa.sa_sigaction = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_sigaction = on_usr2;
  sigaction(SIGUSR2, &sa, NULL);
  /* The application sees its own handler, not a trampoline. */
  struct sigaction now;
  sigaction(SIGUSR2, NULL, &now);
  if (now.sa_sigaction != on_usr2) fail(0, "sigaction reports another handler than ours");
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!g_worker_tid) usleep(1000);
  for (int step = 1; step <= steps; ++step) {
    check(step);
    if (side) {
      FILE* f = fopen(side, "a");
      if (f) {
        fprintf(f, "%d %ld\n", g_pid, kernel_pid());
        fclose(f);
      }
    }
    printf("step %d ok\n", step);
    fflush(stdout);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  atomic_store(&g_stop, 1);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
