// Calls the kernel never restarts after a signal handler (nanosleep, poll,
// epoll_wait, epoll_pwait2, select, semaphore waits, ...) return EINTR when
// the suspend signal interrupts them. The application must not see that
// (GUIDE §3.2): these wrappers retry with the time that was left, and return
// EINTR only when one of the application's own signals interrupted the call.
//
// Time spent suspended (or dead, between checkpoint and restart) does not
// count against a timeout: the suspend handler records when the thread was
// stopped and when it ran again.
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
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
  explicit Retry(int64_t timeout_ns) : remaining_(timeout_ns), started_(now_ns()), seen_(this_thread_pause().interruptions) {}

  // After a call failed: true if it must be issued again.
  bool again() {
    const ThreadPause& p = this_thread_pause();
    if (errno != EINTR || p.interruptions == seen_) return false;
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
  int64_t remaining_ns() const { return remaining_; }
  int remaining_ms() const { return remaining_ < 0 ? -1 : static_cast<int>((remaining_ + 999'999) / 1'000'000); }
  struct timespec remaining_ts() const {
    return {static_cast<time_t>(remaining_ / 1'000'000'000), static_cast<long>(remaining_ % 1'000'000'000)};
  }

 private:
  int64_t remaining_;
  int64_t started_;
  uint64_t seen_;
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

}  // namespace
}  // namespace ckpt

using ckpt::Retry;
using ckpt::next;

extern "C" {

int nanosleep(const struct timespec* req, struct timespec* rem) {
  static auto real = next<int (*)(const struct timespec*, struct timespec*)>("nanosleep");
  struct timespec left = *req, mine;
  struct timespec* out = rem ? rem : &mine;
  uint64_t seen = ckpt::this_thread_pause().interruptions;
  // The kernel reports what was left when the signal came: exactly the time
  // still owed, whether we resume here or in a restarted process.
  int rc;
  while ((rc = real(&left, out)) != 0 && errno == EINTR && ckpt::this_thread_pause().interruptions != seen) {
    seen = ckpt::this_thread_pause().interruptions;
    left = *out;
  }
  return rc;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec* req, struct timespec* rem) {
  static auto real = next<int (*)(clockid_t, int, const struct timespec*, struct timespec*)>("clock_nanosleep");
  struct timespec left = *req, mine;
  struct timespec* out = rem ? rem : &mine;
  uint64_t seen = ckpt::this_thread_pause().interruptions;
  int rc;
  while ((rc = real(clock, flags, &left, out)) == EINTR && ckpt::this_thread_pause().interruptions != seen) {
    seen = ckpt::this_thread_pause().interruptions;
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
