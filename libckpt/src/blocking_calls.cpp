// Calls the kernel never restarts after a signal handler return EINTR when
// the suspend signal interrupts them, although it has SA_RESTART. The
// application must not see that (GUIDE §3.2): their wrappers retry with the
// time that was left, and return EINTR when one of the application's own
// handlers ran in the thread meanwhile (plugins/signal counts them), even if
// a checkpoint interrupted the call at the same moment.
//
// The calls signal(7) lists as never restarted, and where each is retried:
// - sleeps: nanosleep, clock_nanosleep (also sleep, usleep): here, with the
//   time the kernel says is left;
// - waits for descriptors: poll, ppoll, select, pselect, epoll_wait,
//   epoll_pwait, epoll_pwait2: here;
// - socket calls on a socket with a timeout (SO_RCVTIMEO: recv, recvfrom,
//   recvmsg, accept, accept4; SO_SNDTIMEO: send, sendto, sendmsg, connect):
//   here; without a timeout the kernel restarts them itself. After our
//   signal the wrapper waits for the socket (poll) for what is left of the
//   timeout, then issues the call again; a connect goes on in the kernel and
//   is waited for. read/write/recvmmsg/sendmmsg on such sockets are not
//   wrapped (the cost would fall on every read): they can still see EINTR;
// - io_getevents (libaio's, and syscall(SYS_io_getevents)): here;
// - semaphores: sem_wait, sem_timedwait, sem_clockwait: here;
// - signal waits: pause, sigtimedwait, sigwaitinfo: here; sigsuspend:
//   plugins/signal;
// - System V IPC: semop, semtimedop, msgrcv, msgsnd: plugins/sysv;
// - inotify reads (before Linux 3.8): read() is not wrapped; the kernels we
//   run on restart them.
// - futex waits with a timeout: glibc's condition variables and timed
//   locks wait again by themselves (sem_* above); a program's own
//   syscall(SYS_futex, ...) waits: here (ckpt_syscall_futex, for
//   plugins/pid's syscall()).
// The kernel restarts by itself, with the time left or an absolute
// deadline, what SA_RESTART covers: read/write on pipes and devices, wait*,
// flock/fcntl(F_SETLKW), futex waits without a timeout,
// mq_send/mq_receive/mq_timedsend/mq_timedreceive.
//
// Time spent suspended (or dead, between checkpoint and restart) does not
// count against a timeout: the suspend handler records when the thread was
// stopped and when it ran again.
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <linux/aio_abi.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/raw_syscall.h"
#include "core.h"

namespace ckpt {
namespace {

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

int64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// Tracks one blocking call: whether an EINTR was ours, and how much of the
// caller's timeout is left (in ns; negative timeout = wait forever).
class Retry {
 public:
  explicit Retry(int64_t timeout_ns)
      : remaining_(timeout_ns),
        started_(now_ns()),
        seen_(this_thread_pause().interruptions),
        handlers_(this_thread_pause().handlers) {}

  // After a call failed: true if it must be issued again. Not when one of
  // the application's handlers ran meanwhile, even if a checkpoint also
  // interrupted the call: without ckpt its signal would have made the call
  // fail, and a waiter whose handler set a flag (pause, sigsuspend) would
  // otherwise wait again for a signal that already came.
  bool again() {
    const ThreadPause& p = this_thread_pause();
    if (errno != EINTR || p.interruptions == seen_ || p.handlers != handlers_) return false;
    seen_ = p.interruptions;
    if (remaining_ >= 0) {
      // Time before the suspension counts; time after it starts anew (it may
      // be measured on another machine's clock after a restart).
      int64_t used = p.suspended_at_ns - started_;
      remaining_ = remaining_ > used ? remaining_ - used : 0;
      int64_t since_resume = now_ns() - p.resumed_at_ns;
      if (since_resume > 0) remaining_ = remaining_ > since_resume ? remaining_ - since_resume : 0;
    }
    started_ = now_ns();
    return true;
  }
  // For a timeout learned only after the call failed (a socket's).
  void set_timeout_ns(int64_t ns) { remaining_ = ns; }
  int64_t remaining_ns() const { return remaining_; }
  int remaining_ms() const { return remaining_ < 0 ? -1 : static_cast<int>((remaining_ + 999'999) / 1'000'000); }
  struct timespec remaining_ts() const {
    return {static_cast<time_t>(remaining_ / 1'000'000'000), static_cast<long>(remaining_ % 1'000'000'000)};
  }

 private:
  int64_t remaining_;
  int64_t started_;
  uint64_t seen_;
  const uint64_t handlers_;
};

// A timeout in ns, -1 for none; a pointer the kernel will refuse (EFAULT)
// is not read either.
int64_t ts_ns(const struct timespec* ts) {
  return ckpt_readable_user_memory(ts, sizeof *ts) ? ts->tv_sec * 1'000'000'000LL + ts->tv_nsec : -1;
}

// select() may clear its sets when a signal interrupts it: copies to retry
// with. Only the bytes the kernel reads (n bits), from pointers it would
// accept: ok() is false for a set a wrapper must not read, which the real
// call then refuses with EFAULT.
class SavedFdSets {
 public:
  SavedFdSets(int n, fd_set* r, fd_set* w, fd_set* e) : sets_{r, w, e}, bytes_(n > 0 ? (static_cast<size_t>(n) + 7) / 8 : 0) {
    if (bytes_ > sizeof(fd_set)) bytes_ = sizeof(fd_set);
    for (int i = 0; i < 3; ++i) {
      if (!sets_[i]) continue;
      if (!ckpt_readable_user_memory(sets_[i], bytes_)) ok_ = false;
      else memcpy(&copies_[i], sets_[i], bytes_);
    }
  }
  bool ok() const { return ok_; }
  void put_back() {
    for (int i = 0; i < 3; ++i)
      if (sets_[i]) memcpy(sets_[i], &copies_[i], bytes_);
  }

 private:
  fd_set* sets_[3];
  fd_set copies_[3];
  size_t bytes_;
  bool ok_ = true;
};

// The C library's socket calls, resolved before main: libckpt's own
// coordinator connection goes through these wrappers too, and dlsym must
// not run on the checkpoint thread while other threads are frozen.
struct RealSocketCalls {
  ssize_t (*recv)(int, void*, size_t, int);
  ssize_t (*recvfrom)(int, void*, size_t, int, struct sockaddr*, socklen_t*);
  ssize_t (*recvmsg)(int, struct msghdr*, int);
  ssize_t (*send)(int, const void*, size_t, int);
  ssize_t (*sendto)(int, const void*, size_t, int, const struct sockaddr*, socklen_t);
  ssize_t (*sendmsg)(int, const struct msghdr*, int);
  int (*accept)(int, struct sockaddr*, socklen_t*);
  int (*accept4)(int, struct sockaddr*, socklen_t*, int);
  int (*connect)(int, const struct sockaddr*, socklen_t);
  int (*io_getevents)(aio_context_t, long, long, struct io_event*, struct timespec*);  // libaio's, if loaded
};
RealSocketCalls g_socket;

__attribute__((constructor(150))) void resolve_socket_calls() {
  g_socket.recv = next<decltype(g_socket.recv)>("recv");
  g_socket.recvfrom = next<decltype(g_socket.recvfrom)>("recvfrom");
  g_socket.recvmsg = next<decltype(g_socket.recvmsg)>("recvmsg");
  g_socket.send = next<decltype(g_socket.send)>("send");
  g_socket.sendto = next<decltype(g_socket.sendto)>("sendto");
  g_socket.sendmsg = next<decltype(g_socket.sendmsg)>("sendmsg");
  g_socket.accept = next<decltype(g_socket.accept)>("accept");
  g_socket.accept4 = next<decltype(g_socket.accept4)>("accept4");
  g_socket.io_getevents = next<decltype(g_socket.io_getevents)>("io_getevents");
  g_socket.connect = next<decltype(g_socket.connect)>("connect");
}

// Calls made before our constructor (other libraries' constructors) resolve then.
const RealSocketCalls& real_socket() {
  if (!g_socket.connect) resolve_socket_calls();
  return g_socket;
}

// A socket's SO_RCVTIMEO or SO_SNDTIMEO in ns; 0: none.
int64_t socket_timeout_ns(int fd, int option) {
  struct timeval tv = {0, 0};
  socklen_t len = sizeof tv;
  if (sys(SYS_getsockopt, fd, SOL_SOCKET, option, &tv, &len) != 0) return 0;
  return tv.tv_sec * 1'000'000'000LL + tv.tv_usec * 1000LL;
}

// After the suspend signal interrupted a socket call with a timeout: waits
// until `fd` is ready for `events`, within what is left of it. 1: ready
// (issue the call again); 0: the time ran out; -1: failed (errno).
int wait_socket_ready(int fd, short events, Retry& retry) {
  if (retry.remaining_ns() == 0) return 0;
  struct pollfd pfd = {fd, events, 0};
  const int n = poll(&pfd, 1, retry.remaining_ms());  // libckpt's: it waits on after a checkpoint too
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

// A socket call (recv, send, accept ...) whose EINTR after our signal with
// the socket's timeout `option` set means: wait again.
template <typename Call>
ssize_t socket_call(int fd, int option, short events, Call call) {
  Retry retry(-1);
  bool timeout_known = false;
  for (;;) {
    ssize_t rc = call();
    if (rc >= 0 || errno != EINTR) return rc;
    if (!timeout_known) {
      const int64_t timeout = socket_timeout_ns(fd, option);
      if (timeout <= 0) return rc;  // the kernel restarts it: the EINTR is the application's handler's
      retry.set_timeout_ns(timeout);
      timeout_known = true;
      errno = EINTR;
    }
    if (!retry.again()) return rc;
    const int ready = wait_socket_ready(fd, events, retry);
    if (ready < 0) return -1;
    if (ready == 0) {
      errno = EAGAIN;  // what the kernel answers when the timeout runs out
      return -1;
    }
  }
}

}  // namespace
}  // namespace ckpt

using ckpt::Retry;
using ckpt::next;

extern "C" {

int nanosleep(const struct timespec* req, struct timespec* rem) {
  static auto real = next<int (*)(const struct timespec*, struct timespec*)>("nanosleep");
  if (!ckpt_readable_user_memory(req, sizeof *req)) return real(req, rem);  // EFAULT, as without ckpt
  struct timespec left = *req, mine;
  struct timespec* out = rem ? rem : &mine;
  // The kernel reports what was left when the signal came: exactly the time
  // still owed, whether we resume here or in a restarted process.
  Retry retry(-1);
  int rc;
  while ((rc = real(&left, out)) != 0 && retry.again()) left = *out;
  return rc;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec* req, struct timespec* rem) {
  static auto real = next<int (*)(clockid_t, int, const struct timespec*, struct timespec*)>("clock_nanosleep");
  if (!ckpt_readable_user_memory(req, sizeof *req)) return real(clock, flags, req, rem);
  struct timespec left = *req, mine;
  struct timespec* out = rem ? rem : &mine;
  Retry retry(-1);
  int rc;
  // clock_nanosleep returns the error instead of setting errno.
  while ((rc = real(clock, flags, &left, out)) == EINTR && (errno = EINTR, retry.again())) {
    if (!(flags & TIMER_ABSTIME)) left = *out;
  }
  return rc;
}

unsigned int sleep(unsigned int seconds) {
  struct timespec req = {static_cast<time_t>(seconds), 0}, rem = {0, 0};
  if (nanosleep(&req, &rem) == 0) return 0;
  return static_cast<unsigned>(rem.tv_sec + (rem.tv_nsec > 0));
}

int usleep(useconds_t usec) {
  struct timespec req = {static_cast<time_t>(usec / 1000000), static_cast<long>(usec % 1000000) * 1000};
  return nanosleep(&req, nullptr);
}

int poll(struct pollfd* fds, nfds_t n, int timeout) {
  static auto real = next<int (*)(struct pollfd*, nfds_t, int)>("poll");
  Retry retry(timeout < 0 ? -1 : timeout * 1'000'000LL);
  int rc;
  while ((rc = real(fds, n, timeout)) < 0 && retry.again()) timeout = retry.remaining_ms();
  return rc;
}

int ppoll(struct pollfd* fds, nfds_t n, const struct timespec* tmo, const sigset_t* mask) {
  static auto real = next<int (*)(struct pollfd*, nfds_t, const struct timespec*, const sigset_t*)>("ppoll");
  Retry retry(ckpt::ts_ns(tmo));
  struct timespec left;
  sigset_t copy;
  mask = ckpt_without_suspend_signal(mask, &copy);  // a thread in ppoll must still stop at a checkpoint
  int rc;
  while ((rc = real(fds, n, tmo, mask)) < 0 && retry.again()) {
    if (tmo) tmo = &(left = retry.remaining_ts());
  }
  return rc;
}

int select(int n, fd_set* r, fd_set* w, fd_set* e, struct timeval* tv) {
  static auto real = next<int (*)(int, fd_set*, fd_set*, fd_set*, struct timeval*)>("select");
  ckpt::SavedFdSets saved(n, r, w, e);
  if (!saved.ok() || (tv && !ckpt_readable_user_memory(tv, sizeof *tv))) return real(n, r, w, e, tv);
  Retry retry(tv ? tv->tv_sec * 1'000'000'000LL + tv->tv_usec * 1000LL : -1);
  int rc;
  while ((rc = real(n, r, w, e, tv)) < 0 && retry.again()) {
    saved.put_back();
    if (tv) {
      tv->tv_sec = retry.remaining_ns() / 1'000'000'000;
      tv->tv_usec = (retry.remaining_ns() % 1'000'000'000) / 1000;
    }
  }
  return rc;
}

int pselect(int n, fd_set* r, fd_set* w, fd_set* e, const struct timespec* tmo, const sigset_t* mask) {
  static auto real =
      next<int (*)(int, fd_set*, fd_set*, fd_set*, const struct timespec*, const sigset_t*)>("pselect");
  ckpt::SavedFdSets saved(n, r, w, e);
  if (!saved.ok() || (tmo && !ckpt_readable_user_memory(tmo, sizeof *tmo))) return real(n, r, w, e, tmo, mask);
  Retry retry(ckpt::ts_ns(tmo));
  struct timespec left;
  sigset_t copy;
  mask = ckpt_without_suspend_signal(mask, &copy);
  int rc;
  while ((rc = real(n, r, w, e, tmo, mask)) < 0 && retry.again()) {
    saved.put_back();
    if (tmo) tmo = &(left = retry.remaining_ts());
  }
  return rc;
}

int epoll_wait(int epfd, struct epoll_event* events, int max, int timeout) {
  static auto real = next<int (*)(int, struct epoll_event*, int, int)>("epoll_wait");
  Retry retry(timeout < 0 ? -1 : timeout * 1'000'000LL);
  int rc;
  while ((rc = real(epfd, events, max, timeout)) < 0 && retry.again()) timeout = retry.remaining_ms();
  return rc;
}

int epoll_pwait(int epfd, struct epoll_event* events, int max, int timeout, const sigset_t* mask) {
  static auto real = next<int (*)(int, struct epoll_event*, int, int, const sigset_t*)>("epoll_pwait");
  Retry retry(timeout < 0 ? -1 : timeout * 1'000'000LL);
  sigset_t copy;
  mask = ckpt_without_suspend_signal(mask, &copy);
  int rc;
  while ((rc = real(epfd, events, max, timeout, mask)) < 0 && retry.again()) timeout = retry.remaining_ms();
  return rc;
}

// glibc 2.35's: a timespec timeout (NULL: none), otherwise as epoll_pwait.
int epoll_pwait2(int epfd, struct epoll_event* events, int max, const struct timespec* tmo, const sigset_t* mask) {
  static auto real = next<int (*)(int, struct epoll_event*, int, const struct timespec*, const sigset_t*)>("epoll_pwait2");
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  Retry retry(ckpt::ts_ns(tmo));
  struct timespec left;
  sigset_t copy;
  mask = ckpt_without_suspend_signal(mask, &copy);
  int rc;
  while ((rc = real(epfd, events, max, tmo, mask)) < 0 && retry.again()) {
    if (tmo) tmo = &(left = retry.remaining_ts());
  }
  return rc;
}

int sem_wait(sem_t* sem) {
  static auto real = next<int (*)(sem_t*)>("sem_wait");
  Retry retry(-1);
  int rc;
  while ((rc = real(sem)) < 0 && retry.again()) {
  }
  return rc;
}

// Absolute deadlines need no adjustment: retry with the same one.
int sem_timedwait(sem_t* sem, const struct timespec* abstime) {
  static auto real = next<int (*)(sem_t*, const struct timespec*)>("sem_timedwait");
  Retry retry(-1);
  int rc;
  while ((rc = real(sem, abstime)) < 0 && retry.again()) {
  }
  return rc;
}

int sem_clockwait(sem_t* sem, clockid_t clock, const struct timespec* abstime) {
  static auto real = next<int (*)(sem_t*, clockid_t, const struct timespec*)>("sem_clockwait");
  Retry retry(-1);
  int rc;
  while ((rc = real(sem, clock, abstime)) < 0 && retry.again()) {
  }
  return rc;
}

// System V IPC's blocking calls (semop, semtimedop, msgsnd, msgrcv) are the
// sysv plugin's wrappers (plugins/sysv/sysv_wrappers.cpp): they retry on
// virtual ids.

// pause() returns only after a handler ran: if that was ours, wait again.
int pause(void) {
  static auto real = next<int (*)(void)>("pause");
  Retry retry(-1);
  int rc;
  while ((rc = real()) < 0 && retry.again()) {
  }
  return rc;
}

ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return ckpt::socket_call(fd, SO_RCVTIMEO, POLLIN, [&] { return ckpt::real_socket().recv(fd, buf, len, flags); });
}

ssize_t recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* from, socklen_t* from_len) {
  return ckpt::socket_call(fd, SO_RCVTIMEO, POLLIN, [&] { return ckpt::real_socket().recvfrom(fd, buf, len, flags, from, from_len); });
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  return ckpt::socket_call(fd, SO_RCVTIMEO, POLLIN, [&] { return ckpt::real_socket().recvmsg(fd, msg, flags); });
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  return ckpt::socket_call(fd, SO_SNDTIMEO, POLLOUT, [&] { return ckpt::real_socket().send(fd, buf, len, flags); });
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* to, socklen_t to_len) {
  return ckpt::socket_call(fd, SO_SNDTIMEO, POLLOUT, [&] { return ckpt::real_socket().sendto(fd, buf, len, flags, to, to_len); });
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  return ckpt::socket_call(fd, SO_SNDTIMEO, POLLOUT, [&] { return ckpt::real_socket().sendmsg(fd, msg, flags); });
}

int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  return static_cast<int>(ckpt::socket_call(fd, SO_RCVTIMEO, POLLIN, [&] { return ckpt::real_socket().accept(fd, addr, len); }));
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  return static_cast<int>(ckpt::socket_call(fd, SO_RCVTIMEO, POLLIN, [&] { return ckpt::real_socket().accept4(fd, addr, len, flags); }));
}

// An interrupted connect goes on in the kernel (issued again it would fail
// with EALREADY): wait for it to end within the time left, and answer as
// the connect would have; EINPROGRESS when the time runs out, as the kernel.
int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  int rc = ckpt::real_socket().connect(fd, addr, len);
  if (rc == 0 || errno != EINTR) return rc;
  const int64_t timeout = ckpt::socket_timeout_ns(fd, SO_SNDTIMEO);
  if (timeout <= 0) return rc;
  Retry retry(timeout);
  errno = EINTR;
  if (!retry.again()) return rc;
  const int ready = ckpt::wait_socket_ready(fd, POLLOUT, retry);
  if (ready <= 0) {
    if (ready == 0) errno = EINPROGRESS;
    return -1;
  }
  int err = 0;
  socklen_t err_len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return -1;
  if (err == 0) return 0;
  errno = err;
  return -1;
}

long ckpt_syscall_futex(long uaddr, long op, long val, long timeout, long uaddr2, long val3) {
  const long cmd = op & ~static_cast<long>(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const bool waits = cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAIT_REQUEUE_PI;
  if (!waits) return ckpt::sys(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
  // Only FUTEX_WAIT's timeout is relative; the others are deadlines.
  const auto* tmo = reinterpret_cast<const struct timespec*>(timeout);
  const bool relative = cmd == FUTEX_WAIT && tmo;
  Retry retry(relative ? ckpt::ts_ns(tmo) : -1);
  struct timespec left;
  long rc;
  while ((rc = ckpt::sys(SYS_futex, uaddr, op, val, timeout, uaddr2, val3)) < 0 && retry.again()) {
    if (relative) timeout = reinterpret_cast<long>(&(left = retry.remaining_ts()));
  }
  return rc;
}

// libaio's io_getevents (its errors are negative results, not errno), and
// the system call's when libaio is not loaded. Only EINTR with no events.
int io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event* events, struct timespec* tmo) {
  const auto real = ckpt::real_socket().io_getevents;
  Retry retry(ckpt::ts_ns(tmo));
  struct timespec left;
  for (;;) {
    const int rc = real ? real(ctx, min_nr, nr, events, tmo)
                        : static_cast<int>(ckpt::raw_syscall(SYS_io_getevents, static_cast<long>(ctx), min_nr, nr,
                                                             reinterpret_cast<long>(events), reinterpret_cast<long>(tmo)));
    if (rc != -EINTR) return rc;
    errno = EINTR;
    if (!retry.again()) return rc;
    if (tmo) tmo = &(left = retry.remaining_ts());
  }
}

// A dequeued signal names its sender by kernel pid; the application knows
// the virtual one (plugins/pid translates the handler path the same way).
static void virtualize_sender(int rc, siginfo_t* info) {
  if (rc <= 0 || !info) return;
  const int code = info->si_code;
  const bool from_process = code == SI_USER || code == SI_QUEUE || code == SI_TKILL || code == SI_MESGQ;
  const bool from_child = rc == SIGCHLD && code >= CLD_EXITED && code <= CLD_CONTINUED;
  if (from_process || from_child) info->si_pid = ckpt_virtual_pid(info->si_pid);
}

int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* tmo) {
  static auto real = next<int (*)(const sigset_t*, siginfo_t*, const struct timespec*)>("sigtimedwait");
  Retry retry(ckpt::ts_ns(tmo));
  struct timespec left;
  int rc;
  while ((rc = real(set, info, tmo)) < 0 && retry.again()) {
    if (tmo) tmo = &(left = retry.remaining_ts());
  }
  virtualize_sender(rc, info);
  return rc;
}

int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  static auto real = next<int (*)(const sigset_t*, siginfo_t*)>("sigwaitinfo");
  Retry retry(-1);
  int rc;
  while ((rc = real(set, info)) < 0 && retry.again()) {
  }
  virtualize_sender(rc, info);
  return rc;
}

}  // extern "C"
