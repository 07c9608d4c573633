// Signals: the application's handlers, blocked and pending signals.
//
// Wrappers keep libckpt's suspend signal out of the application's hands (it
// can neither replace its handler nor block it). At checkpoint the kernel's
// dispositions and pending sets are saved; at restart the dispositions are
// installed again and pending signals raised again, so a signal that was
// blocked and pending at checkpoint is still pending afterwards. Saved as
// section "signal" (libckpt/image/signal_section.h); decoded by
// signal_schema.cpp.
//
// Every handler the application installs through sigaction/signal runs
// behind a trampoline. It tells libckpt that the application's handler ran
// in this thread (ckpt_application_handler_ran): a blocking call that a
// checkpoint interrupted at the same moment then fails with EINTR, as it
// would without ckpt, instead of being retried. For SA_SIGINFO handlers it
// also makes the sender's pid in the siginfo virtual (it is the kernel's).
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <atomic>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/proc_dir.h"
#include "ckpt/raw_syscall.h"
#include "signal_section.h"

namespace {

constexpr int kMaxSignal = static_cast<int>(ckpt::image::kMaxSignal);
using ckpt::image::kMaxPendingThreads;
using ckpt::image::kMaxQueuedSignals;
using ckpt::image::SavedSigaction;
static_assert(sizeof(ckpt::image::SavedSiginfo) == sizeof(siginfo_t));

// Restored with the process's memory: restart reads it from here.
ckpt::image::SignalSection g_saved;

// The application's view of the suspend signal's disposition, never installed.
struct sigaction g_shadow_action;

// The application's handlers (either kind) and their sa_flags; the kernel
// calls siginfo_trampoline or plain_trampoline.
using siginfo_handler = void (*)(int, siginfo_t*, void*);
using plain_handler = void (*)(int);
std::atomic<void*> g_app_handlers[kMaxSignal + 1];
std::atomic<int> g_app_flags[kMaxSignal + 1];

// Whether si_pid holds a sending process: kill/sigqueue/tgkill/mq_notify
// senders and SIGCHLD's child. (For timers and SIGIO the same bytes mean
// something else.)
bool carries_sender_pid(const siginfo_t* info) {
  switch (info->si_code) {
    case SI_USER:
    case SI_QUEUE:
    case SI_TKILL:
    case SI_MESGQ:
      return true;
    default:
      return info->si_signo == SIGCHLD && info->si_code > 0 && info->si_code <= CLD_CONTINUED;
  }
}

void virtualize_sender(siginfo_t* info) {
  if (info && info->si_pid > 0 && carries_sender_pid(info)) info->si_pid = ckpt_virtual_pid(info->si_pid);
}

void* app_handler(int sig) {
  if (sig <= 0 || sig > kMaxSignal) return nullptr;
  ckpt_application_handler_ran(g_app_flags[sig].load(std::memory_order_relaxed) & SA_RESTART);
  return g_app_handlers[sig].load(std::memory_order_acquire);
}

void siginfo_trampoline(int sig, siginfo_t* info, void* context) {
  virtualize_sender(info);
  if (void* app = app_handler(sig)) reinterpret_cast<siginfo_handler>(app)(sig, info, context);
}

void plain_trampoline(int sig) {
  if (void* app = app_handler(sig)) reinterpret_cast<plain_handler>(app)(sig);
}

bool is_function(const struct sigaction* act) {
  return act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

using sigaction_fn = int (*)(int, const struct sigaction*, struct sigaction*);
using sigmask_fn = int (*)(int, const sigset_t*, sigset_t*);
using sigsuspend_fn = int (*)(const sigset_t*);

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

bool is_ours(int sig) { return ckpt_is_enabled() && sig == ckpt_suspend_signal(); }

// A copy of `set` that does not block the suspend signal.

// Parses "Name:\t%016llx" from a /proc status file.
// "/proc/self/task/<tid>/status", without stdio (threads are frozen).
void format_task_status_path(char (&path)[64], long tid) {
  char digits[24];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + tid % 10);
  while ((tid /= 10) > 0);
  char* out = path;
  for (const char* c = "/proc/self/task/"; *c; ++c) *out++ = *c;
  while (n > 0) *out++ = digits[--n];
  for (const char* c = "/status"; *c; ++c) *out++ = *c;
  *out = '\0';
}

uint64_t status_mask(const char* path, const char* field) {
  int fd = static_cast<int>(ckpt::sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return 0;
  char buf[4096];
  long n = ckpt::sys(SYS_read, fd, buf, sizeof buf - 1);
  ckpt::sys(SYS_close, fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = strstr(buf, field);
  if (!p) return 0;
  p += strlen(field);
  while (*p == ':' || *p == '\t' || *p == ' ') ++p;
  uint64_t v = 0;
  for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); ++p) v = v * 16 + (*p <= '9' ? *p - '0' : *p - 'a' + 10);
  return v;
}

// The kernel takes a saved siginfo back as it is only when its code is
// negative (sigqueue's SI_QUEUE, ...): one of kill() (SI_USER) or of the
// kernel's own may be queued by the thread whose tid the call names, and
// this runs on the checkpoint thread. Those signals are sent again with
// kill(), as SI_USER from this process: the signal stays pending, the
// sender's pid and uid in its siginfo become ours.
void requeue(pid_t pid) {
  for (uint32_t i = 0; i < g_saved.queued_count; ++i) {
    const int sig = g_saved.queued[i].signo;
    if (ckpt::raw_syscall(SYS_rt_sigqueueinfo, pid, sig, reinterpret_cast<long>(&g_saved.queued[i])) == -EPERM) {
      // Said in the log: the signal arrives as SI_USER from this process, without its value.
      ckpt::ShortText what = ckpt::ShortText().add("pending signal ").dec(sig).add(" (si_code ");
      what.dec(g_saved.queued[i].code).add(") queued again with kill(): its siginfo is lost");
      ckpt_log_warning(what.c_str());
      ckpt::raw_syscall(SYS_kill, pid, sig);
    }
  }
}

// Takes every process-directed pending signal off the queue (the
// checkpoint thread blocks all signals, so it may dequeue them) to learn its
// siginfo, and queues it again at once: the running process sees no change.
void save_process_pending(int ours) {
  g_saved.queued_count = 0;
  uint64_t shared = status_mask("/proc/self/status", "ShdPnd") & ~(1ull << (ours - 1));
  if (!shared) return;
  struct timespec zero = {0, 0};
  pid_t pid = static_cast<pid_t>(ckpt::raw_syscall(SYS_getpid));
  while (g_saved.queued_count < kMaxQueuedSignals) {
    ckpt::image::SavedSiginfo* info = &g_saved.queued[g_saved.queued_count];
    long sig = ckpt::raw_syscall(SYS_rt_sigtimedwait, reinterpret_cast<long>(&shared), reinterpret_cast<long>(info),
                                 reinterpret_cast<long>(&zero), 8);
    if (sig <= 0) break;
    ++g_saved.queued_count;
  }
  requeue(pid);
}

void save_signals() {
  int ours = ckpt_suspend_signal();
  g_saved.version = ckpt::image::kSignalSectionVersion;
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    memset(&g_saved.actions[sig], 0, sizeof(SavedSigaction));
    if (sig == SIGKILL || sig == SIGSTOP || sig == ours) continue;
    ckpt::raw_syscall(SYS_rt_sigaction, sig, 0, reinterpret_cast<long>(&g_saved.actions[sig]), 8);
  }
  save_process_pending(ours);
  g_saved.thread_count = 0;
  ckpt::for_each_numbered_entry("/proc/self/task", [&](long tid, int) {
    if (g_saved.thread_count >= kMaxPendingThreads) return false;
    char path[64];
    format_task_status_path(path, tid);
    uint64_t pending = status_mask(path, "SigPnd") & ~(1ull << (ours - 1));
    if (pending) g_saved.threads[g_saved.thread_count++] = {ckpt_virtual_pid(static_cast<pid_t>(tid)), 0, pending};
    return true;
  });
  ckpt_save_section(ckpt::image::kSignalSection, &g_saved, sizeof g_saved);
}

void restore_signals() {
  // Every disposition, defaults included: the new process inherited
  // whatever ckpt_restart's caller had set.
  int ours = ckpt_suspend_signal();
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == ours) continue;
    ckpt::raw_syscall(SYS_rt_sigaction, sig, reinterpret_cast<long>(&g_saved.actions[sig]), 0, 8);
  }
  // Pending signals are raised again: blocked where they were blocked, they
  // stay pending until the application unblocks them.
  pid_t pid = static_cast<pid_t>(ckpt::raw_syscall(SYS_getpid));
  requeue(pid);
  for (uint32_t i = 0; i < g_saved.thread_count; ++i)
    for (int sig = 1; sig <= kMaxSignal; ++sig)
      if (g_saved.threads[i].pending & (1ull << (sig - 1)))
        ckpt::raw_syscall(SYS_tgkill, pid, ckpt_real_pid(g_saved.threads[i].virt_tid), sig);
}

void signal_event(ckpt_event_t event, void*) {
  if (event == CKPT_EVENT_PRE_CHECKPOINT) save_signals();
  if (event == CKPT_EVENT_RESTART) restore_signals();
}

const ckpt_plugin g_plugin = {"signal", signal_event};

__attribute__((constructor(200))) void register_signal_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace

extern "C" {

int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  static sigaction_fn real = next<sigaction_fn>("sigaction");
  if (is_ours(sig)) {
    if (old) *old = g_shadow_action;
    if (act) g_shadow_action = *act;
    return 0;
  }
  if (sig <= 0 || sig > kMaxSignal) return real(sig, act, old);
  struct sigaction through;
  void* const previous = g_app_handlers[sig].load();
  const int previous_flags = g_app_flags[sig].load();
  if (act && is_function(act)) {
    through = *act;
    const bool siginfo = act->sa_flags & SA_SIGINFO;
    g_app_flags[sig].store(act->sa_flags, std::memory_order_relaxed);
    g_app_handlers[sig].store(siginfo ? reinterpret_cast<void*>(act->sa_sigaction) : reinterpret_cast<void*>(act->sa_handler),
                              std::memory_order_release);
    if (siginfo) through.sa_sigaction = siginfo_trampoline;
    else through.sa_handler = plain_trampoline;
    act = &through;
  }
  int rc = real(sig, act, old);
  if (rc != 0) {
    g_app_flags[sig].store(previous_flags);
    g_app_handlers[sig].store(previous);
  } else if (old && (old->sa_flags & SA_SIGINFO) && old->sa_sigaction == siginfo_trampoline) {
    old->sa_sigaction = reinterpret_cast<siginfo_handler>(previous);
  } else if (old && !(old->sa_flags & SA_SIGINFO) && old->sa_handler == plain_trampoline) {
    old->sa_handler = reinterpret_cast<plain_handler>(previous);
  }
  return rc;
}

sighandler_t signal(int sig, sighandler_t handler) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;  // BSD semantics, as glibc's signal()
  if (sigaction(sig, &sa, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  static sigmask_fn real = next<sigmask_fn>("sigprocmask");
  sigset_t copy;
  return real(how, how == SIG_UNBLOCK ? set : ckpt_without_suspend_signal(set, &copy), old);
}

int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  static sigmask_fn real = next<sigmask_fn>("pthread_sigmask");
  sigset_t copy;
  return real(how, how == SIG_UNBLOCK ? set : ckpt_without_suspend_signal(set, &copy), old);
}

// A thread created with a mask (glibc 2.32+) gets it without sigprocmask.
int pthread_attr_setsigmask_np(pthread_attr_t* attr, const sigset_t* mask) {
  using setsigmask_fn = int (*)(pthread_attr_t*, const sigset_t*);
  static setsigmask_fn real = next<setsigmask_fn>("pthread_attr_setsigmask_np");
  sigset_t copy;
  return real(attr, ckpt_without_suspend_signal(mask, &copy));
}

// Returns only after a handler ran; if that was the suspend signal's (a
// checkpoint), the application asked to wait for its own: wait again.
int sigsuspend(const sigset_t* mask) {
  static sigsuspend_fn real = next<sigsuspend_fn>("sigsuspend");
  sigset_t copy;
  const sigset_t* ours_open = ckpt_without_suspend_signal(mask, &copy);
  for (;;) {
    const ckpt_call_mark mark = ckpt_translated_call_begin();
    int rc = real(ours_open);
    int err = errno;
    ckpt_translated_call_end();
    if (rc == 0 || err != EINTR || !ckpt_translated_call_interrupted(mark, 0)) {
      errno = err;
      return rc;
    }
  }
}

}  // extern "C"
