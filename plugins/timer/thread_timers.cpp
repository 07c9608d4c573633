// POSIX timers that notify by starting a thread (SIGEV_THREAD).
//
// glibc runs them from a helper thread of its own that blocks every signal
// and waits in sigwaitinfo: that thread can never be suspended, so any
// program with such a timer (vim has one) could not be checkpointed. We run
// them instead: the kernel timer signals our helper thread (SIGEV_THREAD_ID),
// which blocks everything but the suspend signal, and which starts a thread
// per expiry that calls the application's function with its value, under
// the attributes and the signal mask of the thread that created the timer,
// as glibc does. The timer_t handed back is the kernel's id, which glibc's
// timer_settime/gettime/getoverrun take as is, and which a restart gives the
// timer back (posix_timers.cpp).
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "ckpt/plugin.h"
#include "ckpt/sigev_thread.h"
#include "ckpt/raw_syscall.h"
#include "posix_timers.h"

namespace {

// glibc's own signal for timers (SIGRTMIN before its reservation): no
// application signal is taken from the program.
constexpr int kTimerSignal = 32;
constexpr int kMaxTimers = 1024;

// One SIGEV_THREAD timer. `generation` changes at each reuse of the slot, so
// a signal queued for a deleted timer is not taken for its successor's.
// All zeros, constant-initialized: the table stays in untouched .bss pages
// instead of being written by a constructor in every process at start-up
// (a fork+exec under ckpt paid ~60 page faults for it). kernel_id is read
// only while `live`.
struct ThreadTimer {
  std::atomic<uint32_t> generation{0};
  std::atomic<bool> live{false};
  int kernel_id = 0;
  void (*function)(union sigval) = nullptr;
  union sigval value {};
  bool has_attr = false;
  pthread_attr_t attr{};
  sigset_t creator_mask{};
};
constinit ThreadTimer g_timers[kMaxTimers]{};
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;  // slot allocation and the helper's start

std::atomic<pid_t> g_helper_tid{0};
pid_t g_helper_process = 0;  // timers and threads are not inherited across fork
pid_t g_helper_vtid = 0;     // the helper's virtual tid, at the last checkpoint

pid_t raw_gettid() { return static_cast<pid_t>(ckpt::raw_syscall(SYS_gettid)); }
pid_t raw_getpid() { return static_cast<pid_t>(ckpt::raw_syscall(SYS_getpid)); }

uint64_t value_of(int slot, uint32_t generation) { return static_cast<uint64_t>(generation) << 32 | static_cast<uint32_t>(slot); }

void start_notification(ThreadTimer& t) {
  ckpt::start_sigev_thread(t.function, t.value, t.creator_mask, t.has_attr ? &t.attr : nullptr);
}

void* helper_main(void*) {
  // Everything blocked but the suspend signal, straight from the kernel
  // (the C library would not let us block its own signal 32).
  uint64_t mask = ~uint64_t{0} & ~(uint64_t{1} << (ckpt_suspend_signal() - 1));
  ckpt::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&mask), 0, sizeof mask);
  g_helper_tid.store(raw_gettid());
  uint64_t wanted = uint64_t{1} << (kTimerSignal - 1);
  for (;;) {
    siginfo_t info;
    long sig = ckpt::raw_syscall(SYS_rt_sigtimedwait, reinterpret_cast<long>(&wanted), reinterpret_cast<long>(&info), 0,
                                 sizeof wanted);
    if (sig != kTimerSignal) continue;  // a checkpoint interrupted the wait
    const uint64_t v = reinterpret_cast<uint64_t>(info.si_value.sival_ptr);
    const uint32_t slot = static_cast<uint32_t>(v), generation = static_cast<uint32_t>(v >> 32);
    if (slot >= kMaxTimers) continue;
    ThreadTimer& t = g_timers[slot];
    if (t.live.load() && t.generation.load() == generation) start_notification(t);
  }
  return nullptr;
}

// The helper thread of this process, started on first use. Call with g_lock held.
pid_t helper_tid() {
  if (g_helper_process == raw_getpid() && g_helper_tid.load() != 0) return g_helper_tid.load();
  // A fork child: the parent's timers and helper are not ours.
  for (ThreadTimer& t : g_timers) t.live.store(false);
  g_helper_tid.store(0);
  g_helper_process = raw_getpid();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, helper_main, nullptr);
  pthread_attr_destroy(&attr);
  if (rc != 0) return 0;
  while (g_helper_tid.load() == 0) sched_yield();
  return g_helper_tid.load();
}

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

namespace ckpt::timer {

void thread_timers_before_checkpoint() {
  const bool ours = g_helper_process == raw_getpid() && g_helper_tid.load() != 0;
  g_helper_vtid = ours ? ckpt_virtual_pid(g_helper_tid.load()) : 0;
}

// Without this, the first SIGEV_THREAD timer_create after a restart would
// take the process for a fork child and drop every timer.
void thread_timers_after_restart(const ckpt_restart_info* info) {
  if (g_helper_vtid == 0) return;
  for (int i = 0; i < info->thread_count; ++i)
    if (info->threads[i].virt_tid == g_helper_vtid) {
      g_helper_tid.store(info->threads[i].real_tid);
      g_helper_process = info->real_pid;
    }
}

}  // namespace ckpt::timer

extern "C" {

int timer_create(clockid_t clock, struct sigevent* sev, timer_t* id) {
  using create_fn = int (*)(clockid_t, struct sigevent*, timer_t*);
  static create_fn real = next<create_fn>("timer_create");
  if (!ckpt_is_enabled()) return real(clock, sev, id);
  clock = ckpt::timer::kernel_clock(clock);
  if (!sev || sev->sigev_notify != SIGEV_THREAD) return real(clock, sev, id);
  pthread_mutex_lock(&g_lock);
  const pid_t helper = helper_tid();
  int slot = 0;
  while (slot < kMaxTimers && g_timers[slot].live.load()) ++slot;
  if (helper == 0 || slot == kMaxTimers) {
    pthread_mutex_unlock(&g_lock);
    errno = EAGAIN;
    return -1;
  }
  ThreadTimer& t = g_timers[slot];
  t.function = sev->sigev_notify_function;
  t.value = sev->sigev_value;
  t.has_attr = sev->sigev_notify_attributes != nullptr;
  if (t.has_attr) t.attr = *sev->sigev_notify_attributes;
  pthread_sigmask(SIG_SETMASK, nullptr, &t.creator_mask);
  const uint32_t generation = t.generation.fetch_add(1) + 1;
  struct sigevent k;
  memset(&k, 0, sizeof k);
  k.sigev_notify = SIGEV_THREAD_ID;
  k.sigev_signo = kTimerSignal;
  k.sigev_value.sival_ptr = reinterpret_cast<void*>(value_of(slot, generation));
  k._sigev_un._tid = helper;
  int kernel_id = -1;
  long rc = ckpt::sys(SYS_timer_create, clock, &k, &kernel_id);
  if (rc == 0) {
    t.kernel_id = kernel_id;
    t.live.store(true);
    *id = reinterpret_cast<timer_t>(static_cast<intptr_t>(kernel_id));
  }
  pthread_mutex_unlock(&g_lock);
  return rc == 0 ? 0 : -1;
}

int timer_delete(timer_t id) {
  using delete_fn = int (*)(timer_t);
  static delete_fn real = next<delete_fn>("timer_delete");
  const intptr_t kernel_id = reinterpret_cast<intptr_t>(id);
  pthread_mutex_lock(&g_lock);
  for (ThreadTimer& t : g_timers) {
    if (!t.live.load() || t.kernel_id != kernel_id || g_helper_process != raw_getpid()) continue;
    long rc = ckpt::sys(SYS_timer_delete, kernel_id);
    if (rc == 0) t.live.store(false);
    pthread_mutex_unlock(&g_lock);
    return rc == 0 ? 0 : -1;
  }
  pthread_mutex_unlock(&g_lock);
  return real(id);
}

}  // extern "C"
