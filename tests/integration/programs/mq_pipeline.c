/* mq_pipeline PREFIX STEPS SLEEP_MS [raw-notify=FILE] (or mq_pipeline --unlink PREFIX):
 * POSIX message queues between forked processes (issue 10), with messages
 * in flight whenever a checkpoint comes:
 *   - a producer child fills queue D (maxmsg 6) with a batch of 6 messages of
 *     several priorities each step (the queue is full), waits, then tells
 *     the parent on queue C; the parent prints D's mq_getattr and reads the
 *     batch (priority order, FIFO within a priority), then acks on queue K;
 *   - a notified child has SIGEV_SIGNAL (SIGUSR1) on queue N and SIGEV_THREAD
 *     on queue T, each re-registered with a new sigev_value per message, and
 *     SIGEV_NONE on queue X, registered once; it reports what each
 *     notification carried on queue R, and the parent prints it; each step
 *     the parent checks X's registration still holds (mq_notify: EBUSY);
 *   - the parent keeps queue U, unlinked at once, with 3 messages in it
 *     between steps;
 *   - each step the parent prints mq_getattr of D, of T (its descriptor is
 *     O_NONBLOCK) and of U.
 * With raw-notify=FILE the parent also registers SIGEV_NONE on queue Z by a
 * raw system call, which libckpt's mq_notify does not see, at the first step
 * that finds FILE: no later checkpoint can save it. Only the parent prints: "step N" lines with everything it saw. Every
 * queue is named PREFIX_<letter> and unlinked at the end. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char kLetters[] = "DCKNTRXUZ";
static char g_prefix[200];

static void name_of(char letter, char* out) { sprintf(out, "%s_%c", g_prefix, letter); }

static void die(const char* what) {
  fprintf(stderr, "mq_pipeline: %s: %s\n", what, strerror(errno));
  exit(1);
}

static mqd_t open_queue(char letter, int flags, long maxmsg, long msgsize) {
  char name[256];
  name_of(letter, name);
  struct mq_attr a;
  memset(&a, 0, sizeof a);
  a.mq_maxmsg = maxmsg;
  a.mq_msgsize = msgsize;
  mqd_t q = mq_open(name, flags | O_CREAT, 0600, &a);
  if (q < 0) die(name);
  return q;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static ssize_t receive(mqd_t q, char* buf, size_t cap, unsigned* prio) {
  ssize_t n;
  while ((n = mq_receive(q, buf, cap, prio)) < 0 && errno == EINTR) {
  }
  if (n < 0) die("mq_receive");
  buf[n] = '\0';
  return n;
}

static void send_text(mqd_t q, const char* text, unsigned prio) {
  while (mq_send(q, text, strlen(text), prio) != 0)
    if (errno != EINTR) die("mq_send");
}

static void producer(int steps, long sleep_ms_each) {
  mqd_t d = open_queue('D', O_WRONLY, 6, 64), c = open_queue('C', O_WRONLY, 4, 64), k = open_queue('K', O_RDONLY, 4, 64);
  char buf[64];
  for (int s = 1; s <= steps; ++s) {
    for (int i = 0; i < 6; ++i) {
      char text[64];
      snprintf(text, sizeof text, "batch %d item %d", s, i);
      send_text(d, text, (unsigned)((s * 7 + i * 5) % 4));
    }
    sleep_ms(sleep_ms_each);  /* a full queue for a while */
    snprintf(buf, sizeof buf, "batch %d", s);
    send_text(c, buf, 0);
    receive(k, buf, sizeof buf, NULL);
  }
  exit(0);
}

/* The notified child. */
static mqd_t g_t, g_r;
static int g_thread_count;

static void register_signal(mqd_t n, int value) {
  struct sigevent se;
  memset(&se, 0, sizeof se);
  se.sigev_notify = SIGEV_SIGNAL;
  se.sigev_signo = SIGUSR1;
  se.sigev_value.sival_int = value;
  if (mq_notify(n, &se) != 0) die("mq_notify SIGEV_SIGNAL");
}

static void on_thread_notification(union sigval v);

static void register_thread(int value) {
  struct sigevent se;
  memset(&se, 0, sizeof se);
  se.sigev_notify = SIGEV_THREAD;
  se.sigev_notify_function = on_thread_notification;
  se.sigev_value.sival_int = value;
  if (mq_notify(g_t, &se) != 0) die("mq_notify SIGEV_THREAD");
}

static void on_thread_notification(union sigval v) {
  char buf[80], report[160];
  unsigned prio;
  ++g_thread_count;
  register_thread(v.sival_int + 1);
  receive(g_t, buf, sizeof buf, &prio);
  snprintf(report, sizeof report, "thread notification %d value %d: '%s' prio %u", g_thread_count, v.sival_int, buf, prio);
  send_text(g_r, report, 0);
}

static void notified(void) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  mqd_t n = open_queue('N', O_RDONLY | O_NONBLOCK, 4, 80), x = open_queue('X', O_RDONLY, 2, 16);
  g_t = open_queue('T', O_RDONLY, 4, 80);
  g_r = open_queue('R', O_WRONLY, 4, 160);
  struct sigevent none;
  memset(&none, 0, sizeof none);
  none.sigev_notify = SIGEV_NONE;
  if (mq_notify(x, &none) != 0) die("mq_notify SIGEV_NONE");
  register_thread(500);
  int value = 100;
  register_signal(n, value);
  char buf[80], report[160];
  for (int count = 1;; ++count) {
    siginfo_t si;
    int sig;
    while ((sig = sigwaitinfo(&usr1, &si)) < 0 && errno == EINTR) {
    }
    if (sig != SIGUSR1) die("sigwaitinfo");
    unsigned prio;
    ssize_t got = mq_receive(n, buf, sizeof buf, &prio);
    if (got < 0) die("mq_receive N");
    buf[got] = '\0';
    if (strcmp(buf, "quit") == 0) exit(0);
    snprintf(report, sizeof report, "signal notification %d: code %s value %d: '%s' prio %u", count,
             si.si_code == SI_MESGQ ? "SI_MESGQ" : "other", si.si_value.sival_int, buf, prio);
    register_signal(n, ++value);
    send_text(g_r, report, 0);
  }
}

static void unlink_all(void) {
  char name[256];
  for (const char* l = kLetters; *l; ++l) {
    name_of(*l, name);
    mq_unlink(name);
  }
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--unlink") == 0) {
    snprintf(g_prefix, sizeof g_prefix, "%s", argv[2]);
    unlink_all();
    return 0;
  }
  const char* raw_file = argc == 5 && strncmp(argv[4], "raw-notify=", 11) == 0 ? argv[4] + 11 : NULL;
  if (argc != 4 && !raw_file) {
    fprintf(stderr, "usage: mq_pipeline PREFIX STEPS SLEEP_MS [raw-notify=FILE] | --unlink PREFIX\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  snprintf(g_prefix, sizeof g_prefix, "%s", argv[1]);
  const int steps = atoi(argv[2]);
  const long sleep_each = atol(argv[3]);
  unlink_all();
  mqd_t d = open_queue('D', O_RDONLY, 6, 64), c = open_queue('C', O_RDONLY, 4, 64), k = open_queue('K', O_WRONLY, 4, 64);
  mqd_t n = open_queue('N', O_WRONLY, 4, 80), t = open_queue('T', O_WRONLY | O_NONBLOCK, 4, 80);
  mqd_t r = open_queue('R', O_RDONLY, 4, 160), x = open_queue('X', O_WRONLY, 2, 16);
  mqd_t u = open_queue('U', O_RDWR | O_NONBLOCK, 5, 32);
  char uname[256];
  name_of('U', uname);
  mq_unlink(uname);
  pid_t children[2];
  if ((children[0] = fork()) == 0) producer(steps, sleep_each);
  if ((children[1] = fork()) == 0) notified();
  char buf[200];
  unsigned prio;
  for (int s = 1; s <= steps; ++s) {
    if (raw_file && access(raw_file, F_OK) == 0) {
      raw_file = NULL;
      mqd_t z = open_queue('Z', O_RDONLY, 2, 16);
      struct sigevent none;
      memset(&none, 0, sizeof none);
      none.sigev_notify = SIGEV_NONE;
      if (syscall(SYS_mq_notify, z, &none) != 0) die("raw mq_notify");
    }
    receive(c, buf, sizeof buf, NULL);
    printf("step %d: %s\n", s, buf);
    struct mq_attr a;
    mq_getattr(d, &a);
    printf("  D attr: maxmsg %ld msgsize %ld curmsgs %ld nonblock %d\n", a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs,
           (a.mq_flags & O_NONBLOCK) != 0);
    struct mq_attr ta, ua;
    mq_getattr(t, &ta);
    mq_getattr(u, &ua);
    printf("  T attr: maxmsg %ld msgsize %ld nonblock %d; U attr: maxmsg %ld msgsize %ld nonblock %d\n", ta.mq_maxmsg,
           ta.mq_msgsize, (ta.mq_flags & O_NONBLOCK) != 0, ua.mq_maxmsg, ua.mq_msgsize, (ua.mq_flags & O_NONBLOCK) != 0);
    for (int i = 0; i < 6; ++i) {
      receive(d, buf, sizeof buf, &prio);
      printf("  D prio %u '%s'\n", prio, buf);
    }
    send_text(k, "ack", 0);
    snprintf(buf, sizeof buf, "signal-%d", s);
    send_text(n, buf, (unsigned)(s % 3));
    receive(r, buf, sizeof buf, NULL);
    printf("  %s\n", buf);
    snprintf(buf, sizeof buf, "thread-%d", s);
    send_text(t, buf, (unsigned)(s % 5));
    receive(r, buf, sizeof buf, NULL);
    printf("  %s\n", buf);
    struct sigevent se;
    memset(&se, 0, sizeof se);
    se.sigev_notify = SIGEV_NONE;
    int rc = mq_notify(x, &se);
    printf("  X registration held by the child: %s\n", rc != 0 && errno == EBUSY ? "yes" : "no");
    snprintf(buf, sizeof buf, "u-%d", s);
    if (mq_send(u, buf, strlen(buf), (unsigned)(s % 3)) != 0) die("mq_send U");
    mq_getattr(u, &a);
    if (a.mq_curmsgs > 3) {
      ssize_t got = mq_receive(u, buf, 32, &prio);
      if (got < 0) die("mq_receive U");
      buf[got] = '\0';
      printf("  U (unlinked) prio %u '%s', %ld left\n", prio, buf, a.mq_curmsgs - 1);
    }
    sleep_ms(sleep_each);
  }
  send_text(n, "quit", 0);
  int status, failed = 0;
  for (int i = 0; i < 2; ++i) {
    waitpid(children[i], &status, 0);
    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  unlink_all();
  printf("done%s\n", failed ? " (a child failed)" : "");
  return failed;
}
