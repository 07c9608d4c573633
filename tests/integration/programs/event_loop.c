/* event_loop STEPS: an epoll loop over event descriptors of every kind
 * (issue 9), with events pending while it sleeps in each step:
 *   - an eventfd counter (EPOLLET, data = a pointer), written through a dup
 *     (fd 50) and read through the original: one object;
 *   - an eventfd added to the epoll instance under one number, then moved
 *     to fd 60 (dup2, close): the watch stays under the old number, which
 *     later steps reuse for other files;
 *   - an eventfd (fd 70) in the epoll instance (EPOLLET) that only the child
 *     keeps open after the fork: the child writes it each step, and the
 *     parent counts the edges without reading it; after a restart the
 *     child adds the watch again;
 *   - an eventfd in semaphore mode (data = an id), 3 units a step, read one
 *     by one (level-triggered: one wake-up each);
 *   - a periodic CLOCK_MONOTONIC timerfd (10 ms; data = a pointer);
 *   - a one-shot CLOCK_MONOTONIC timerfd armed for 1 ms each step, in the
 *     epoll set with EPOLLONESHOT and re-enabled with EPOLL_CTL_MOD: its
 *     expiration is pending while the step sleeps, and must be read exactly
 *     once;
 *   - an absolute CLOCK_REALTIME timerfd, due 4 s after the start (still
 *     armed at a checkpoint taken in the first steps, even on a loaded
 *     machine: event_images.sh decodes it);
 *   - a signalfd for SIGUSR1, which the program sends itself each step;
 *   - an inotify instance watching a directory and its subdirectory b (the
 *     watch of a, added and removed in between, leaves a gap: watch
 *     descriptors 1 and 3); each step creates a file in both;
 *   - two eventfds shared with a forked child, which answers each request
 *     (a number) with twice the number, and also sends three times the
 *     number through a pipe and five times through a UNIX socket pair; the
 *     parent watches the socket directly and the pipe through a second epoll
 *     instance, itself watched by the first; the child waits in
 *     epoll_pwait2 on an epoll instance of its own. The parent's epoll
 *     instances and all its descriptors are inherited by the child: shared
 *     objects, too.
 * A thread sits in a blocking read of a second signalfd whose mask is every
 * signal but SIGUSR1 (so also libckpt's suspend signal, which the signalfd
 * wrapper must leave out, or the thread would take it and never stop) until
 * the end, when SIGUSR2 sent to it ends the read.
 *
 * Every wait (epoll_wait, epoll_pwait, epoll_pwait2, read) treats EINTR as
 * an error: the program handles no signal, so a checkpoint must not surface
 * one.
 *
 * Prints one "step N ..." line per step with what the step received (all of
 * it deterministic), then the timers' results: the periodic timer's count
 * must be at least half of what 30 ms of sleep per step gives at 10 ms
 * (time spent checkpointing and dead only adds, restarts resume the time
 * left) and at most what the whole run's monotonic time allows.
 *
 * inotify events still queued at a checkpoint do not survive a restart
 * (README): creating the file and taking its event is a section no
 * checkpoint cuts through (ckpt_delay_checkpoints, when running under ckpt). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "tree_common.h"

int ckpt_delay_checkpoints(void) __attribute__((weak));
int ckpt_allow_checkpoints(void) __attribute__((weak));

enum { kDupFd = 50, kMovedFd = 60, kRemoteFd = 70, kSleepMs = 30, kPeriodMs = 10 };
#define ID_SEMAPHORE 0x5e3a000000000001ull
#define ID_ABSOLUTE 0xab50000000000002ull
#define ID_CHILD 0xc41d000000000003ull
#define ID_INNER 0x1223000000000004ull
#define ID_SOCKET 0x50c0000000000005ull
#define ID_PIPE 0x919e000000000006ull
#define ID_MOVED 0x3076000000000007ull
#define ID_REMOTE 0x7e30000000000008ull

struct source {
  const char *name;
  int fd;
};

static struct source counter = {"counter", -1}, periodic = {"periodic", -1}, oneshot = {"oneshot", -1},
                     signals = {"signalfd", -1}, watcher = {"inotify", -1};
static int semaphore_fd, absolute_fd, to_child, to_parent, epfd, inner_epfd;
static int pipe_fds[2], socket_fds[2];

/* What the loop took in since the step began. */
static struct {
  uint64_t counter, child, piped, socketed, moved;
  int sem_reads, signals, oneshots, created_wd, sub_wd, remote;
  char created[64], sub_created[64];
} got;
static uint64_t periodic_ticks, absolute_ticks;
static int main_wd;
static sigset_t blocked;
static struct timespec absolute_due;

static void add(int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev = {.events = events, .data.u64 = data};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl ADD");
}

static uint64_t read_u64(int fd) {
  uint64_t v;
  if (read(fd, &v, sizeof v) != sizeof v) die("read 8 bytes");
  return v;
}

static void handle(const struct epoll_event *ev) {
  if (ev->data.ptr == &counter) {
    uint64_t v;
    while (read(counter.fd, &v, sizeof v) == sizeof v) got.counter += v;  /* EPOLLET: until EAGAIN */
    if (errno != EAGAIN) die("read counter");
  } else if (ev->data.u64 == ID_SEMAPHORE) {
    if (read_u64(semaphore_fd) != 1) die("semaphore eventfd read more than 1");
    got.sem_reads++;
  } else if (ev->data.ptr == &periodic) {
    periodic_ticks += read_u64(periodic.fd);
  } else if (ev->data.ptr == &oneshot) {
    got.oneshots += (int)read_u64(oneshot.fd);
  } else if (ev->data.u64 == ID_ABSOLUTE) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec < absolute_due.tv_sec || (now.tv_sec == absolute_due.tv_sec && now.tv_nsec < absolute_due.tv_nsec)) {
      fprintf(stderr, "event_loop: the absolute timer fired before its time\n");
      exit(1);
    }
    absolute_ticks += read_u64(absolute_fd);
  } else if (ev->data.ptr == &signals) {
    struct signalfd_siginfo si;
    if (read(signals.fd, &si, sizeof si) != sizeof si || si.ssi_signo != SIGUSR1) die("read signalfd");
    got.signals++;
  } else if (ev->data.ptr == &watcher) {
    char buf[4096] __attribute__((aligned(8)));
    ssize_t n = read(watcher.fd, buf, sizeof buf);
    if (n <= 0) die("read inotify");
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      if ((e->mask & IN_CREATE) && e->wd == main_wd) {
        got.created_wd = e->wd;
        snprintf(got.created, sizeof got.created, "%s", e->name);
      } else if (e->mask & IN_CREATE) {
        got.sub_wd = e->wd;
        snprintf(got.sub_created, sizeof got.sub_created, "%s", e->name);
      }
      p += sizeof *e + e->len;
    }
  } else if (ev->data.u64 == ID_CHILD) {
    got.child += read_u64(to_parent);
  } else if (ev->data.u64 == ID_REMOTE) {
    got.remote++;  /* the child's descriptor: an edge per write, one more after a restart */
  } else if (ev->data.u64 == ID_MOVED) {
    got.moved += read_u64(kMovedFd);
  } else if (ev->data.u64 == ID_SOCKET) {
    uint64_t v;
    if (read_full(socket_fds[0], &v, sizeof v) != sizeof v) die("read the socket");
    got.socketed += v;
  } else if (ev->data.u64 == ID_INNER) {
    struct epoll_event inner;
    int n = epoll_wait(inner_epfd, &inner, 1, 0);
    if (n < 0) die("epoll_wait inner");
    if (n == 1 && inner.data.u64 == ID_PIPE) got.piped += read_u64(pipe_fds[0]);
  } else {
    fprintf(stderr, "event_loop: an event with unknown data %#llx\n", (unsigned long long)ev->data.u64);
    exit(1);
  }
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* Runs the loop until done() says so; fails if that takes 30 s. */
static void run_until(int (*done)(int), int step) {
  const double deadline = now_s() + 30;
  while (!done(step)) {
    struct epoll_event evs[8];
    /* Odd steps wait in epoll_wait, even ones in epoll_pwait (with the mask
     * the program has, SIGUSR1 blocked). */
    int n = step % 2 ? epoll_wait(epfd, evs, 8, 1000) : epoll_pwait(epfd, evs, 8, 1000, &blocked);
    if (n < 0) die(step % 2 ? "epoll_wait" : "epoll_pwait");
    if (now_s() > deadline) {
      fprintf(stderr, "event_loop: step %d: stuck for 30 s with counter %llu, semaphore reads %d, signals %d, oneshot %d, "
              "child %llu, pipe %llu, socket %llu, moved %llu, file '%s'\n", step, (unsigned long long)got.counter, got.sem_reads,
              got.signals, got.oneshots, (unsigned long long)got.child, (unsigned long long)got.piped,
              (unsigned long long)got.socketed, (unsigned long long)got.moved, got.created);
      exit(1);
    }
    for (int i = 0; i < n; i++) handle(&evs[i]);
  }
}

static int file_seen(int step) {
  char name[64];
  snprintf(name, sizeof name, "f%d", step);
  return strcmp(got.created, name) == 0 && strcmp(got.sub_created, name) == 0;
}

static int step_done(int step) {
  return got.counter == (uint64_t)step && got.sem_reads == 3 && got.signals == 1 && got.oneshots == 1 &&
         got.child == 2 * (uint64_t)step && got.piped == 3 * (uint64_t)step && got.socketed == 5 * (uint64_t)step && got.moved == 1 && got.remote >= 1;
}

static int absolute_done(int step) { (void)step; return absolute_ticks > 0; }

static void *signal_reader(void *arg) {
  int fd = *(int *)arg;
  struct signalfd_siginfo si;
  if (read(fd, &si, sizeof si) != sizeof si) die("read the second signalfd");
  if (si.ssi_signo != SIGUSR2) {
    fprintf(stderr, "event_loop: the second signalfd read signal %u, not SIGUSR2\n", si.ssi_signo);
    exit(1);
  }
  return NULL;
}

static void child_main(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, to_child, &ev) != 0) die("child epoll");
  for (;;) {
    struct epoll_event out;
    int n = epoll_pwait2(ep, &out, 1, NULL, NULL);
    if (n < 0) die("child epoll_pwait2");
    if (n != 1 || out.data.u64 != 7) {
      fprintf(stderr, "event_loop: child: unexpected wake-up\n");
      _exit(1);
    }
    uint64_t v = read_u64(to_child), one = 1, old;
    if (v == 1000000) _exit(0);
    if ((read(kRemoteFd, &old, sizeof old) < 0 && errno != EAGAIN) || write(kRemoteFd, &one, sizeof one) != sizeof one)
      die("child: the remote eventfd");
    uint64_t answers[3] = {2 * v, 3 * v, 5 * v};
    if (write(to_parent, &answers[0], 8) != 8 || write(pipe_fds[1], &answers[1], 8) != 8 ||
        write(socket_fds[1], &answers[2], 8) != 8)
      die("child write");
  }
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
  setvbuf(stdout, NULL, _IOLBF, 0);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/event_loop.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(dir)) die("mkdtemp");

  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &usr1, &blocked) != 0 || sigprocmask(SIG_BLOCK, NULL, &blocked) != 0) die("sigprocmask");

  if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1");
  if ((counter.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 || dup2(counter.fd, kDupFd) != kDupFd) die("eventfd");
  if ((semaphore_fd = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE)) < 0) die("eventfd semaphore");
  if ((periodic.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)) < 0) die("timerfd periodic");
  if ((oneshot.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0) die("timerfd oneshot");
  if ((absolute_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK)) < 0) die("timerfd absolute");
  if ((signals.fd = signalfd(-1, &usr1, SFD_NONBLOCK)) < 0) die("signalfd");
  if ((watcher.fd = inotify_init1(IN_NONBLOCK)) < 0) die("inotify_init1");
  if ((main_wd = inotify_add_watch(watcher.fd, dir, IN_CREATE | IN_DELETE)) < 0) die("inotify_add_watch");
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/a", dir);
  int gap = mkdir(sub, 0700) == 0 ? inotify_add_watch(watcher.fd, sub, IN_CREATE) : -1;
  if (gap < 0 || inotify_rm_watch(watcher.fd, gap) != 0) die("inotify watch of a");
  snprintf(sub, sizeof sub, "%s/b", dir);
  if (mkdir(sub, 0700) != 0 || inotify_add_watch(watcher.fd, sub, IN_CREATE | IN_ONLYDIR) < 0) die("inotify watch of b");
  if ((to_child = eventfd(0, 0)) < 0 || (to_parent = eventfd(0, EFD_NONBLOCK)) < 0) die("eventfd pair");
  if (pipe(pipe_fds) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, socket_fds) != 0) die("pipe, socketpair");
  if ((inner_epfd = epoll_create1(0)) < 0) die("epoll_create1 inner");

  struct itimerspec every = {{0, kPeriodMs * 1000000L}, {0, kPeriodMs * 1000000L}};
  if (timerfd_settime(periodic.fd, 0, &every, NULL) != 0) die("timerfd_settime periodic");
  clock_gettime(CLOCK_REALTIME, &absolute_due);
  absolute_due.tv_sec += 4;
  struct itimerspec at = {{0, 0}, absolute_due};
  if (timerfd_settime(absolute_fd, TFD_TIMER_ABSTIME, &at, NULL) != 0) die("timerfd_settime absolute");

  add(counter.fd, EPOLLIN | EPOLLET, (uint64_t)(uintptr_t)&counter);
  add(semaphore_fd, EPOLLIN, ID_SEMAPHORE);
  add(periodic.fd, EPOLLIN, (uint64_t)(uintptr_t)&periodic);
  add(oneshot.fd, EPOLLIN | EPOLLONESHOT, (uint64_t)(uintptr_t)&oneshot);
  add(absolute_fd, EPOLLIN, ID_ABSOLUTE);
  add(signals.fd, EPOLLIN, (uint64_t)(uintptr_t)&signals);
  add(watcher.fd, EPOLLIN, (uint64_t)(uintptr_t)&watcher);
  add(to_parent, EPOLLIN | EPOLLEXCLUSIVE, ID_CHILD);
  add(socket_fds[0], EPOLLIN, ID_SOCKET);
  int moved = eventfd(0, EFD_NONBLOCK);
  if (moved < 0) die("eventfd moved");
  add(moved, EPOLLIN, ID_MOVED);
  if (dup2(moved, kMovedFd) != kMovedFd || close(moved) != 0) die("move the eventfd");
  int remote = eventfd(0, EFD_NONBLOCK);
  if (remote < 0 || dup2(remote, kRemoteFd) != kRemoteFd || close(remote) != 0) die("eventfd remote");
  add(kRemoteFd, EPOLLIN | EPOLLET, ID_REMOTE);
  add(inner_epfd, EPOLLIN, ID_INNER);
  struct epoll_event piped = {.events = EPOLLIN, .data.u64 = ID_PIPE};
  if (epoll_ctl(inner_epfd, EPOLL_CTL_ADD, pipe_fds[0], &piped) != 0) die("epoll_ctl ADD pipe");

  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) child_main();
  close(kRemoteFd);

  sigset_t all_but_usr1;
  sigfillset(&all_but_usr1);
  sigdelset(&all_but_usr1, SIGUSR1);
  if (pthread_sigmask(SIG_BLOCK, &all_but_usr1, NULL) != 0) die("pthread_sigmask");
  static int reader_fd;
  if ((reader_fd = signalfd(-1, &all_but_usr1, SFD_CLOEXEC)) < 0) die("signalfd of the reader");
  pthread_t reader;
  if (pthread_create(&reader, NULL, signal_reader, &reader_fd) != 0) die("pthread_create");
  if (pthread_sigmask(SIG_SETMASK, &blocked, NULL) != 0) die("pthread_sigmask");

  for (int step = 1; step <= steps; step++) {
    memset(&got, 0, sizeof got);
    /* The file and its event, with no checkpoint in between. */
    char path[4200];
    snprintf(path, sizeof path, "%s/f%d", dir, step);
    if (ckpt_delay_checkpoints) ckpt_delay_checkpoints();
    /* A run killed after a checkpoint may have made it already: anew. */
    unlink(path);
    int f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (f < 0) die("create a file in the watched directory");
    close(f);
    snprintf(path, sizeof path, "%s/b/f%d", dir, step);
    unlink(path);
    if ((f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0) die("create a file in b");
    close(f);
    run_until(file_seen, step);
    if (ckpt_allow_checkpoints) ckpt_allow_checkpoints();

    uint64_t n = (uint64_t)step, three = 3;
    uint64_t one = 1;
    if (write(kDupFd, &n, sizeof n) != sizeof n || write(semaphore_fd, &three, sizeof three) != sizeof three ||
        write(kMovedFd, &one, sizeof one) != sizeof one)
      die("write eventfd");
    if (kill(getpid(), SIGUSR1) != 0) die("kill");
    if (write(to_child, &n, sizeof n) != sizeof n) die("write to the child");
    struct itimerspec once = {{0, 0}, {0, 1000000}};
    if (timerfd_settime(oneshot.fd, 0, &once, NULL) != 0) die("timerfd_settime oneshot");
    sleep_ms(kSleepMs);  /* everything above is pending now */
    run_until(step_done, step);
    struct epoll_event again = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = &oneshot};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, oneshot.fd, &again) != 0) die("epoll_ctl MOD oneshot");
    printf("step %d counter %llu semaphore reads %d signals %d oneshot %d child %llu pipe %llu socket %llu inotify wd %d %s, "
           "wd %d b/%s\n", step, (unsigned long long)got.counter, got.sem_reads, got.signals, got.oneshots,
           (unsigned long long)got.child, (unsigned long long)got.piped, (unsigned long long)got.socketed, got.created_wd,
           got.created, got.sub_wd, got.sub_created);
  }
  run_until(absolute_done, steps);
  clock_gettime(CLOCK_MONOTONIC, &end);

  if (pthread_kill(reader, SIGUSR2) != 0 || pthread_join(reader, NULL) != 0) die("end the reader");
  uint64_t stop = 1000000;
  if (write(to_child, &stop, sizeof stop) != sizeof stop) die("write to the child");
  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the child failed");

  double run_ms = (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6;
  uint64_t least = (uint64_t)steps * kSleepMs / kPeriodMs / 2, most = (uint64_t)(run_ms / kPeriodMs) + 1;
  printf("absolute timer: fired %llu time(s), not before its time\n", (unsigned long long)absolute_ticks);
  if (periodic_ticks < least || periodic_ticks > most)
    printf("periodic timer: %llu expirations, outside [%llu, %llu]\n", (unsigned long long)periodic_ticks,
           (unsigned long long)least, (unsigned long long)most);
  else
    printf("periodic timer: within bounds\n");
  for (int step = 1; step <= steps; step++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/f%d", dir, step);
    unlink(path);
    snprintf(path, sizeof path, "%s/b/f%d", dir, step);
    unlink(path);
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/a", dir);
  rmdir(path);
  snprintf(path, sizeof path, "%s/b", dir);
  rmdir(path);
  rmdir(dir);
  return 0;
}
