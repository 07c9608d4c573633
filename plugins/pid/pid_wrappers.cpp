// The C library's process-id calls, with virtual ids on the application's
// side and kernel ids on the kernel's: getpid & co., process groups and
// sessions, signals to pids, the wait family, and syscall() for the same
// system calls. Pid arguments go virtual -> real, returned pids real ->
// virtual; a reaped child leaves the pid table.
#include <dlfcn.h>
#include <linux/userfaultfd.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/uio.h>
#include <time.h>

#include "ckpt/raw_syscall.h"
#include "pid_args.h"

#include <linux/aio_abi.h>

// libckpt's (libckpt/src/blocking_calls.cpp), with libaio's signature:
// errors are negative results.
extern "C" int io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event* events, struct timespec* tmo);
#include "virtual_ids.h"

namespace {

using namespace ckpt::pid;

using wait4_fn = pid_t (*)(pid_t, int*, int, struct rusage*);
using waitid_fn = int (*)(idtype_t, id_t, siginfo_t*, int);

wait4_fn g_real_wait4 = nullptr;
waitid_fn g_real_waitid = nullptr;

__attribute__((constructor(150))) void resolve_wait_calls() {
  g_real_wait4 = reinterpret_cast<wait4_fn>(dlsym(RTLD_NEXT, "wait4"));
  g_real_waitid = reinterpret_cast<waitid_fn>(dlsym(RTLD_NEXT, "waitid"));
}

bool terminated(int status) { return WIFEXITED(status) || WIFSIGNALED(status); }

// Issues call(real arguments) until it was not a checkpoint that made it
// fail: a wait blocked at checkpoint time holds real pids that a restart
// replaces, so the kernel must not simply restart it (plugin.h).
template <typename Call>
long translated_call(Call call) {
  for (;;) {
    const ckpt_call_mark mark = ckpt_translated_call_begin();
    long rc = call();
    int err = errno;
    ckpt_translated_call_end();
    bool stale = rc < 0 && (err == EINTR || err == ECHILD || err == ESRCH);
    if (!stale || !ckpt_translated_call_interrupted(mark, 1)) {
      errno = err;
      return rc;
    }
  }
}

// Translating an id and using it (or translating the kernel's answer) must
// happen in one process: a checkpoint and a restart in between would hand
// the kernel a real pid of the process before the restart, or the
// application an answer about it (DMTCP's pty2 caught getsid doing so under
// load). A call with an effect (a signal sent, a group changed) holds the
// checkpoint off while it runs by blocking the suspend signal, which then
// waits microseconds; a question is asked again if a checkpoint came in
// between. Neither kind may block in the kernel.
template <typename Call>
long holding_checkpoints(Call call) {
  const int suspend = ckpt_suspend_signal();
  if (suspend <= 0) return call();
  const uint64_t block = uint64_t{1} << (suspend - 1);
  uint64_t old = 0;
  ckpt::raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, reinterpret_cast<long>(&block), reinterpret_cast<long>(&old), 8);
  long rc = call();
  const int err = errno;
  ckpt::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&old), 0, 8);
  errno = err;
  return rc;
}

template <typename Call>
long asked_without_checkpoint(Call call) {
  for (;;) {
    const ckpt_call_mark before = ckpt_translated_call_begin();
    long rc = call();
    const int err = errno;
    ckpt_translated_call_end();
    const ckpt_call_mark after = ckpt_translated_call_begin();
    ckpt_translated_call_end();
    if (after.checkpoints == before.checkpoints) {
      errno = err;
      return rc;
    }
  }
}

pid_t virtual_wait4(pid_t pid, int* status, int options, struct rusage* usage) {
  if (!g_real_wait4) resolve_wait_calls();
  int own_status = 0;
  int* st = status ? status : &own_status;  // we must know whether the child is gone
  auto real = static_cast<pid_t>(translated_call([&] { return g_real_wait4(to_real_target(pid), st, options, usage); }));
  if (real <= 0) return real;
  pid_t virt = to_virtual(real);
  if (terminated(*st)) forget_reaped(real);
  return virt;
}

// waitid's id: a pid for P_PID, a process group for P_PGID (0: our own).
id_t real_waitid_id(idtype_t type, id_t id) {
  if (type == P_PID) return static_cast<id_t>(to_real(static_cast<pid_t>(id)));
  if (type == P_PGID) return static_cast<id_t>(to_real_group(static_cast<pid_t>(id)));
  return id;
}

void after_waitid(siginfo_t* info, int options) {
  pid_t real = info->si_pid;
  if (real <= 0) return;  // WNOHANG and nothing to report
  info->si_pid = to_virtual(real);
  bool gone = info->si_code == CLD_EXITED || info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED;
  if (gone && (options & WEXITED) && !(options & WNOWAIT)) forget_reaped(real);
}

// The kernel's waitid, for syscall(SYS_waitid, ...), which also takes a rusage.
long raw_virtual_waitid(idtype_t type, id_t id, siginfo_t* info, int options, struct rusage* usage) {
  siginfo_t own;
  memset(&own, 0, sizeof own);
  siginfo_t* si = info ? info : &own;
  long rc = translated_call([&] { return ckpt::sys(SYS_waitid, type, real_waitid_id(type, id), si, options, usage); });
  if (rc == 0) after_waitid(si, options);
  return rc;
}

// A siginfo the application built for rt_sigqueueinfo: the kernel passes
// si_pid on as is, and receivers translate from real to virtual.
long queue_siginfo(long nr, pid_t tgid, pid_t tid, int sig, const siginfo_t* info) {
  return holding_checkpoints([&] {
    siginfo_t copy;
    const siginfo_t* sent = info;
    if (ckpt_readable_user_memory(info, sizeof *info)) {
      copy = *info;
      copy.si_pid = to_real(info->si_pid);
      sent = &copy;
    }
    if (nr == SYS_rt_sigqueueinfo) return ckpt::sys(nr, to_real(tgid), sig, sent);
    return ckpt::sys(nr, to_real(tgid), to_real(tid), sig, sent);
  });
}

pid_t real_result_to_virtual_group(long real) { return real < 0 ? -1 : to_virtual_group(static_cast<pid_t>(real)); }

constexpr IdTranslator kKernelIds{to_real, to_real_group};

// A system call of pid_args.h's table with its ids made the kernel's.
long call_with_real_ids(const PidCall& call, long a1, long a2, long a3, long a4, long a5, long a6) {
  return holding_checkpoints([&] {
    const long original[6] = {a1, a2, a3, a4, a5, a6};
    long args[6] = {a1, a2, a3, a4, a5, a6};
    __user_cap_header_struct header;
    translate_pid_args(call, args, kKernelIds, &header);
    long rc = ckpt::sys(call.nr, args[0], args[1], args[2], args[3], args[4], args[5]);
    int err = errno;
    finish_pid_args(call, original, args);
    errno = err;
    return rc;
  });
}

// get/setpriority's `who` as the kernel must see it: by pid_args.h's rule
// for `which` (a pid, a process group, or a uid left alone).
id_t real_priority_who(long nr, int which, id_t who) {
  long args[6] = {which, static_cast<long>(who)};
  translate_pid_args(*find_pid_call(nr), args, kKernelIds, nullptr);
  return static_cast<id_t>(args[1]);
}

// The C library's function `name`, for wrappers that keep its behaviour
// (glibc's sched_getaffinity and getpriority, say, do more than the system
// call) and only change the id.
template <typename Fn>
Fn next_function(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}
#define CKPT_NEXT(fn) static const auto next_##fn = next_function<decltype(&::fn)>(#fn)

}  // namespace

extern "C" {

pid_t getpid(void) { return self_virtual(); }
pid_t gettid(void) {
  return static_cast<pid_t>(
      asked_without_checkpoint([] { return to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_gettid))); }));
}
// A parent outside the computation is not in the table: its real pid shows.
pid_t getppid(void) {
  return static_cast<pid_t>(
      asked_without_checkpoint([] { return to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_getppid))); }));
}

pid_t getpgid(pid_t pid) {
  return static_cast<pid_t>(
      asked_without_checkpoint([&] { return real_result_to_virtual_group(ckpt::sys(SYS_getpgid, to_real(pid))); }));
}
pid_t getpgrp(void) {
  return static_cast<pid_t>(asked_without_checkpoint([] { return real_result_to_virtual_group(ckpt::sys(SYS_getpgid, 0)); }));
}
pid_t getsid(pid_t pid) {
  return static_cast<pid_t>(
      asked_without_checkpoint([&] { return real_result_to_virtual_group(ckpt::sys(SYS_getsid, to_real(pid))); }));
}

int setpgid(pid_t pid, pid_t pgid) {
  return static_cast<int>(holding_checkpoints([&] {
    pid_t real = pid ? to_real(pid) : self_real();
    pid_t real_group = pgid ? to_real_group(pgid) : real;
    if (real_group == real) drop_stale_group(real);
    return ckpt::sys(SYS_setpgid, real, real_group);
  }));
}

pid_t setsid(void) {
  return static_cast<pid_t>(holding_checkpoints([] {
    drop_stale_group(self_real());
    long sid = ckpt::sys(SYS_setsid);
    return sid < 0 ? -1L : static_cast<long>(self_virtual());
  }));
}

int kill(pid_t pid, int sig) {
  return static_cast<int>(holding_checkpoints([&] { return ckpt::sys(SYS_kill, to_real_target(pid), sig); }));
}

int killpg(pid_t pgrp, int sig) {
  if (pgrp < 0) {
    errno = EINVAL;
    return -1;
  }
  return static_cast<int>(holding_checkpoints([&] { return ckpt::sys(SYS_kill, -to_real_group(pgrp), sig); }));
}

int tgkill(pid_t tgid, pid_t tid, int sig) {
  return static_cast<int>(
      holding_checkpoints([&] { return ckpt::sys(SYS_tgkill, to_real(tgid), to_real(tid), sig); }));
}

int sigqueue(pid_t pid, int sig, const union sigval value) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_uid = getuid();
  info.si_value = value;
  return static_cast<int>(holding_checkpoints([&] {
    info.si_pid = self_real();  // receivers translate; see queue_siginfo
    return ckpt::sys(SYS_rt_sigqueueinfo, to_real(pid), sig, &info);
  }));
}

int pidfd_open(pid_t pid, unsigned int flags) {
  return static_cast<int>(holding_checkpoints([&] { return ckpt::sys(SYS_pidfd_open, to_real(pid), flags); }));
}

pid_t wait(int* status) { return virtual_wait4(-1, status, 0, nullptr); }
pid_t waitpid(pid_t pid, int* status, int options) { return virtual_wait4(pid, status, options, nullptr); }
pid_t wait3(int* status, int options, struct rusage* usage) { return virtual_wait4(-1, status, options, usage); }
pid_t wait4(pid_t pid, int* status, int options, struct rusage* usage) {
  return virtual_wait4(pid, status, options, usage);
}

int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
  if (!g_real_waitid) resolve_wait_calls();
  siginfo_t own;
  memset(&own, 0, sizeof own);
  siginfo_t* si = info ? info : &own;
  auto rc = static_cast<int>(translated_call([&] { return g_real_waitid(type, real_waitid_id(type, id), si, options); }));
  if (rc == 0) after_waitid(si, options);
  return rc;
}

// Calls that name a process or thread by id (pid_args.h has the system
// calls; these are the C library's functions for them).
int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t* set) {
  CKPT_NEXT(sched_setaffinity);
  return next_sched_setaffinity(to_real(pid), size, set);
}
int sched_getaffinity(pid_t pid, size_t size, cpu_set_t* set) {
  CKPT_NEXT(sched_getaffinity);
  return next_sched_getaffinity(to_real(pid), size, set);
}
int sched_setparam(pid_t pid, const struct sched_param* param) {
  CKPT_NEXT(sched_setparam);
  return next_sched_setparam(to_real(pid), param);
}
int sched_getparam(pid_t pid, struct sched_param* param) {
  CKPT_NEXT(sched_getparam);
  return next_sched_getparam(to_real(pid), param);
}
int sched_setscheduler(pid_t pid, int policy, const struct sched_param* param) {
  CKPT_NEXT(sched_setscheduler);
  return next_sched_setscheduler(to_real(pid), policy, param);
}
int sched_getscheduler(pid_t pid) {
  CKPT_NEXT(sched_getscheduler);
  return next_sched_getscheduler(to_real(pid));
}
int sched_rr_get_interval(pid_t pid, struct timespec* interval) {
  CKPT_NEXT(sched_rr_get_interval);
  return next_sched_rr_get_interval(to_real(pid), interval);
}
ssize_t process_vm_readv(pid_t pid, const struct iovec* local, unsigned long nlocal, const struct iovec* remote,
                         unsigned long nremote, unsigned long flags) {
  CKPT_NEXT(process_vm_readv);
  return next_process_vm_readv(to_real(pid), local, nlocal, remote, nremote, flags);
}
ssize_t process_vm_writev(pid_t pid, const struct iovec* local, unsigned long nlocal, const struct iovec* remote,
                          unsigned long nremote, unsigned long flags) {
  CKPT_NEXT(process_vm_writev);
  return next_process_vm_writev(to_real(pid), local, nlocal, remote, nremote, flags);
}
int prlimit(pid_t pid, enum __rlimit_resource resource, const struct rlimit* limit, struct rlimit* old) {
  CKPT_NEXT(prlimit);
  return next_prlimit(to_real(pid), resource, limit, old);
}
// x86-64: struct rlimit64 is struct rlimit, and glibc exports both names.
int prlimit64(pid_t pid, enum __rlimit_resource resource, const struct rlimit64* limit, struct rlimit64* old) {
  CKPT_NEXT(prlimit64);
  return next_prlimit64(to_real(pid), resource, limit, old);
}
int getpriority(__priority_which_t which, id_t who) {
  CKPT_NEXT(getpriority);
  return next_getpriority(which, real_priority_who(SYS_getpriority, which, who));
}
int setpriority(__priority_which_t which, id_t who, int prio) {
  CKPT_NEXT(setpriority);
  return next_setpriority(which, real_priority_who(SYS_setpriority, which, who), prio);
}
int capget(cap_user_header_t header, cap_user_data_t data) {
  return static_cast<int>(call_with_real_ids(*find_pid_call(SYS_capget), reinterpret_cast<long>(header),
                                             reinterpret_cast<long>(data), 0, 0, 0, 0));
}
int capset(cap_user_header_t header, const cap_user_data_t data) {
  return static_cast<int>(call_with_real_ids(*find_pid_call(SYS_capset), reinterpret_cast<long>(header),
                                             reinterpret_cast<long>(data), 0, 0, 0, 0));
}

// A terminal's foreground process group and session: job-control shells
// hand the terminal from job to job by group id. glibc's tc* functions call
// the kernel themselves, so they are wrapped apart from ioctl.
pid_t tcgetpgrp(int fd) {
  return static_cast<pid_t>(asked_without_checkpoint([&] {
    pid_t real = 0;
    if (ckpt::sys(SYS_ioctl, fd, TIOCGPGRP, &real) < 0) return -1L;
    return static_cast<long>(to_virtual_group(real));
  }));
}

int tcsetpgrp(int fd, pid_t pgrp) {
  return static_cast<int>(holding_checkpoints([&] {
    pid_t real = to_real_group(pgrp);
    return ckpt::sys(SYS_ioctl, fd, TIOCSPGRP, &real);
  }));
}

pid_t tcgetsid(int fd) {
  return static_cast<pid_t>(asked_without_checkpoint([&] {
    pid_t real = 0;
    if (ckpt::sys(SYS_ioctl, fd, TIOCGSID, &real) < 0) return -1L;
    return static_cast<long>(to_virtual_group(real));
  }));
}

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  switch (request) {
    case TIOCGPGRP:
    case TIOCGSID:
      return static_cast<int>(asked_without_checkpoint([&] {
        long rc = ckpt::sys(SYS_ioctl, fd, request, arg);
        if (rc == 0) *static_cast<pid_t*>(arg) = to_virtual_group(*static_cast<pid_t*>(arg));
        return rc;
      }));
    case TIOCSPGRP: {
      if (!ckpt_readable_user_memory(arg, sizeof(pid_t))) return static_cast<int>(ckpt::sys(SYS_ioctl, fd, request, arg));
      return static_cast<int>(holding_checkpoints([&] {
        pid_t real = to_real_group(*static_cast<const pid_t*>(arg));
        return ckpt::sys(SYS_ioctl, fd, request, &real);
      }));
    }
    case UFFDIO_REGISTER: {
      // Not a pid matter, but this is the one ioctl wrapper: the
      // application's own userfaultfd takes memory that ckpt may track
      // writes to (incremental images), which would refuse it with EBUSY.
      // If a checkpoint tracked it again meanwhile, once more.
      using ioctl_fn = int (*)(int, unsigned long, ...);
      static auto next = reinterpret_cast<ioctl_fn>(dlsym(RTLD_NEXT, "ioctl"));
      if (!ckpt_readable_user_memory(arg, sizeof(uffdio_register))) return next(fd, request, arg);
      const uffdio_range range = static_cast<const uffdio_register*>(arg)->range;
      ckpt_untrack_memory(reinterpret_cast<const void*>(range.start), range.len);
      int rc = next(fd, request, arg);
      if (rc != 0 && errno == EBUSY) {
        ckpt_untrack_memory(reinterpret_cast<const void*>(range.start), range.len);
        rc = next(fd, request, arg);
      }
      return rc;
    }
    default: {
      using ioctl_fn = int (*)(int, unsigned long, ...);
      static auto next = reinterpret_cast<ioctl_fn>(dlsym(RTLD_NEXT, "ioctl"));
      return next(fd, request, arg);
    }
  }
}

// syscall(2) itself, for programs that ask the kernel for ids directly.
long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  auto pid = [](long v) { return static_cast<pid_t>(v); };
  switch (nr) {
    case SYS_getpid:
      return getpid();
    case SYS_gettid:
      return gettid();
    case SYS_getppid:
      return getppid();
    case SYS_getpgid:
      return getpgid(pid(a1));
    case SYS_getpgrp:
      return getpgrp();
    case SYS_getsid:
      return getsid(pid(a1));
    case SYS_setpgid:
      return setpgid(pid(a1), pid(a2));
    case SYS_setsid:
      return setsid();
    case SYS_kill:
      return kill(pid(a1), static_cast<int>(a2));
    case SYS_tgkill:
      return tgkill(pid(a1), pid(a2), static_cast<int>(a3));
    case SYS_rt_sigqueueinfo:
    case SYS_rt_tgsigqueueinfo: {
      bool tg = nr == SYS_rt_tgsigqueueinfo;
      return queue_siginfo(nr, pid(a1), tg ? pid(a2) : 0, static_cast<int>(tg ? a3 : a2),
                           reinterpret_cast<const siginfo_t*>(tg ? a4 : a3));
    }
    case SYS_wait4:
      return wait4(pid(a1), reinterpret_cast<int*>(a2), static_cast<int>(a3), reinterpret_cast<struct rusage*>(a4));
    case SYS_waitid:
      return raw_virtual_waitid(static_cast<idtype_t>(a1), static_cast<id_t>(a2), reinterpret_cast<siginfo_t*>(a3),
                                static_cast<int>(a4), reinterpret_cast<struct rusage*>(a5));
    // A thread's mask straight from the kernel: the suspend signal stays
    // unblocked (the signal plugin does the same for sigprocmask). The
    // kernel's set is 8 bytes, not a sigset_t.
    case SYS_rt_sigprocmask: {
      uint64_t mask;
      if (a1 != SIG_UNBLOCK && ckpt_readable_user_memory(reinterpret_cast<const void*>(a2), sizeof mask) &&
          a4 == sizeof mask && ckpt_is_enabled()) {
        mask = *reinterpret_cast<const uint64_t*>(a2) & ~(uint64_t{1} << (ckpt_suspend_signal() - 1));
        a2 = reinterpret_cast<long>(&mask);
      }
      return ckpt::sys(nr, a1, a2, a3, a4);
    }
    // Blocking calls the kernel does not restart after a signal handler: the
    // C library's names are libckpt's wrappers, which retry after the
    // suspend signal (libckpt/src/blocking_calls.cpp; the SysV ones, plugins/sysv).
    case SYS_semop:
      return semop(static_cast<int>(a1), reinterpret_cast<struct sembuf*>(a2), static_cast<size_t>(a3));
    case SYS_semtimedop:
      return semtimedop(static_cast<int>(a1), reinterpret_cast<struct sembuf*>(a2), static_cast<size_t>(a3),
                        reinterpret_cast<const struct timespec*>(a4));
    case SYS_msgrcv:
      return msgrcv(static_cast<int>(a1), reinterpret_cast<void*>(a2), static_cast<size_t>(a3), a4, static_cast<int>(a5));
    case SYS_msgsnd:
      return msgsnd(static_cast<int>(a1), reinterpret_cast<const void*>(a2), static_cast<size_t>(a3), static_cast<int>(a4));
    case SYS_nanosleep:
      return nanosleep(reinterpret_cast<const struct timespec*>(a1), reinterpret_cast<struct timespec*>(a2));
    case SYS_pause:
      return pause();
    case SYS_poll:
      return poll(reinterpret_cast<struct pollfd*>(a1), static_cast<nfds_t>(a2), static_cast<int>(a3));
    case SYS_futex:
      return ckpt_syscall_futex(a1, a2, a3, a4, a5, a6);
    case SYS_io_getevents: {
      long rc = io_getevents(static_cast<aio_context_t>(a1), a2, a3, reinterpret_cast<struct io_event*>(a4),
                             reinterpret_cast<struct timespec*>(a5));
      if (rc >= 0) return rc;
      errno = static_cast<int>(-rc);
      return -1;
    }
    case SYS_epoll_wait:
      return epoll_wait(static_cast<int>(a1), reinterpret_cast<struct epoll_event*>(a2), static_cast<int>(a3),
                        static_cast<int>(a4));
    default:
      if (const PidCall* call = find_pid_call(nr)) return call_with_real_ids(*call, a1, a2, a3, a4, a5, a6);
      return ckpt::sys(nr, a1, a2, a3, a4, a5, a6);
  }
}

}  // extern "C"
