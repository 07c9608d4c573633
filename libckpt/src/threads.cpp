// Suspending and resuming the application's threads (GUIDE §3.1-3.2).
//
// The checkpoint thread lists /proc/self/task and sends each thread the
// suspend signal. The handler records what the kernel will not give back by
// itself (fs base, tid address, robust list, rseq area, the handler's mask),
// saves its callee-saved registers with ckpt_save_context, and parks on a
// futex. Everything else the thread had - all registers incl. FPU/AVX, its
// signal mask and alternate stack - is in the signal frame on its stack and
// comes back through rt_sigreturn when the handler returns, both after a
// checkpoint and after a restart (the restorer resumes the thread right after
// ckpt_save_context, inside this handler).
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "ckpt/proc_dir.h"
#include "ckpt/raw_syscall.h"
#include "core.h"
#include "log.h"

#ifndef ARCH_GET_FS
#define ARCH_GET_FS 0x1003
#endif
#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

namespace ckpt {

int64_t monotonic_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

namespace {

// Constant zero-initialized: untouched .bss, not 40 pages a constructor
// writes in every process at start-up.
constinit ThreadSlot g_slots[kMaxThreads]{};
std::atomic<bool> g_suspending{false};
std::atomic<uint32_t> g_resume_word{0};
std::atomic<int> g_parked{0};
std::atomic<int> g_restored{0};

__thread ThreadPause t_pause __attribute__((tls_model("initial-exec")));

constexpr int64_t kThreadStopTimeoutNs = 10'000'000'000;
constexpr int kForkWaitMs = 20'000;

void futex_wait(std::atomic<int>* word, int expected, int64_t timeout_ns) {
  struct timespec ts = {static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
  sys(SYS_futex, reinterpret_cast<int*>(word), FUTEX_WAIT_PRIVATE, expected, timeout_ns >= 0 ? &ts : nullptr,
          nullptr, 0);
}

void futex_wake_all(void* word) { sys(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0); }

ThreadSlot* find_slot(pid_t tid) {
  for (auto& s : g_slots)
    if (s.state.load(std::memory_order_acquire) != kSlotFree && s.real_tid == tid) return &s;
  return nullptr;
}

ThreadSlot* claim_slot(pid_t tid) {
  for (auto& s : g_slots) {
    if (s.state.load(std::memory_order_relaxed) == kSlotFree) {
      s.real_tid = tid;
      s.virt_tid = ckpt_virtual_pid(tid);
      s.state.store(kSlotSignalled, std::memory_order_release);
      return &s;
    }
  }
  return nullptr;
}

// A thread inside ckpt_translated_call_begin/end that a checkpoint caught in
// a system call: the kernel has set the call up to be issued again (or was
// about to issue it) with its old arguments. Make it return EINTR instead.
void fail_pending_syscall(void* ucontext) {
  greg_t* regs = static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs;
  const auto* ip = reinterpret_cast<const unsigned char*>(regs[REG_RIP]);
  constexpr unsigned char kSyscall[2] = {0x0f, 0x05};
  if (ip[0] != kSyscall[0] || ip[1] != kSyscall[1]) return;  // not in the call: it uses fresh values
  regs[REG_RAX] = -EINTR;
  regs[REG_RIP] += sizeof kSyscall;
}

void suspend_handler(int, siginfo_t*, void* ucontext) {
  int saved_errno = errno;
  if (!g_suspending.load(std::memory_order_acquire)) {
    errno = saved_errno;
    return;
  }
  pid_t tid = raw_gettid();
  ThreadSlot* slot = find_slot(tid);
  if (!slot) {  // a thread born after the listing; the next listing finds it
    errno = saved_errno;
    return;
  }
  ThreadPause& pause = t_pause;
  pause.interruptions++;
  pause.suspended_at_ns = monotonic_ns();
  fill_thread_record(slot->rec, tid == raw_getpid() ? static_cast<uint32_t>(image::kThreadLeader) : 0u);
  slot->rec.virt_tid = slot->virt_tid;
  uint32_t parked_in = g_resume_word.load(std::memory_order_acquire);
  if (ckpt_save_context(&slot->rec.ctx) == 0) {
    slot->state.store(kSlotParked, std::memory_order_release);
    g_parked.fetch_add(1);
    futex_wake_all(&g_parked);
  } else {
    // Resumed by the restorer in a new process: the kernel tid may be new.
    slot->real_tid = raw_gettid();
    g_restored.fetch_add(1);
    futex_wake_all(&g_restored);
  }
  while (g_resume_word.load(std::memory_order_acquire) == parked_in)
    sys(SYS_futex, &g_resume_word, FUTEX_WAIT_PRIVATE, parked_in, nullptr, nullptr, 0);
  pause.resumed_at_ns = monotonic_ns();
  if (pause.translated_calls > 0) fail_pending_syscall(ucontext);
  errno = saved_errno;
}

bool thread_alive(pid_t pid, pid_t tid) { return sys(SYS_tgkill, pid, tid, 0) == 0 || errno != ESRCH; }

// Signals every thread not yet signalled; returns how many were newly signalled.
int signal_new_threads(pid_t pid, pid_t self, int* signalled) {
  int fresh = 0;
  bool out_of_slots = false;
  long walked = for_each_numbered_entry("/proc/self/task", [&](long number, int) {
    const auto tid = static_cast<pid_t>(number);
    if (tid == self || find_slot(tid)) return true;
    ThreadSlot* slot = claim_slot(tid);
    if (!slot) {
      out_of_slots = true;
      return false;
    }
    if (sys(SYS_tgkill, pid, tid, g_config.suspend_signal) != 0) {
      slot->state.store(kSlotFree);  // exited meanwhile
      return true;
    }
    ++*signalled;
    ++fresh;
    return true;
  });
  if (out_of_slots) return -2;
  return walked < 0 ? -1 : fresh;
}

}  // namespace

ThreadPause& this_thread_pause() { return t_pause; }

}  // namespace ckpt

extern "C" {

ckpt_call_mark ckpt_translated_call_begin(void) {
  ckpt::ThreadPause& p = ckpt::t_pause;
  p.translated_calls++;
  return {p.interruptions, p.handlers, p.handlers_no_restart};
}

void ckpt_translated_call_end(void) { ckpt::t_pause.translated_calls--; }

int ckpt_translated_call_interrupted(ckpt_call_mark mark, int restartable) {
  const ckpt::ThreadPause& p = ckpt::t_pause;
  if (p.interruptions == mark.checkpoints) return 0;
  return restartable ? p.handlers_no_restart == mark.handlers_no_restart : p.handlers == mark.handlers;
}

void ckpt_application_handler_ran(int restarts) {
  ckpt::ThreadPause& p = ckpt::t_pause;
  p.handlers++;
  if (!restarts) p.handlers_no_restart++;
}

}  // extern "C"

namespace ckpt {

void fill_thread_record(image::ThreadRecord& rec, uint32_t flags) {
  std::memset(&rec, 0, sizeof rec);
  rec.flags = flags;
  rec.real_tid = raw_gettid();
  sys(SYS_arch_prctl, ARCH_GET_FS, &rec.fs_base);
  sys(SYS_prctl, PR_GET_TID_ADDRESS, &rec.clear_child_tid, 0, 0, 0);
  struct robust_list_head* head = nullptr;
  size_t len = 0;
  if (sys(SYS_get_robust_list, 0, &head, &len) == 0) {
    rec.robust_list = reinterpret_cast<uint64_t>(head);
    rec.robust_list_len = len;
  }
  // glibc registers one rseq area per thread inside its TCB; the kernel wants
  // the original 32-byte length even though glibc advertises the used part.
  if (__rseq_size > 0) {
    rec.rseq_addr = rec.fs_base + __rseq_offset;
    rec.rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
    rec.rseq_sig = 0x53053053;  // RSEQ_SIG on x86-64
  }
  sys(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, &rec.sigmask, 8);
}

void install_suspend_handler() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = suspend_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  if (ckpt_real_sigaction(g_config.suspend_signal, &sa, nullptr) != 0)
    log_fatal("cannot install the suspend handler for signal %d", g_config.suspend_signal);
}

int suspend_threads(char* error, size_t error_len) {
  pid_t pid = raw_getpid(), self = raw_gettid();
  // No thread may be frozen half-way through creating a process: wait for
  // forks in progress (each is bounded by its child's registration timeout).
  if (!fork_gate_close(kForkWaitMs)) {
    format_to(error, error_len, "a fork, or a section that delays checkpoints (ckpt_delay_checkpoints), did not end within %d s",
              kForkWaitMs / 1000);
    fork_gate_open();
    return -1;
  }
  g_parked.store(0);
  g_restored.store(0);  // the snapshot must carry 0: restored threads count up from it
  g_suspending.store(true, std::memory_order_release);
  int signalled = 0;
  int64_t deadline = monotonic_ns() + kThreadStopTimeoutNs;
  for (;;) {
    int fresh = signal_new_threads(pid, self, &signalled);
    if (fresh < 0) {
      format_to(error, error_len, fresh == -2 ? "more than %d threads" : "cannot list /proc/self/task", kMaxThreads);
      resume_threads();
      return -1;
    }
    if (fresh == 0 && g_parked.load() == signalled) break;
    while (g_parked.load() < signalled) {
      int parked = g_parked.load();
      futex_wait(&g_parked, parked, 50'000'000);
      if (g_parked.load() != parked) continue;
      // No progress: drop threads that exited before parking.
      for (auto& s : g_slots) {
        if (s.state.load() == kSlotSignalled && !thread_alive(pid, s.real_tid)) {
          s.state.store(kSlotFree);
          --signalled;
        }
      }
      if (monotonic_ns() > deadline) {
        for (auto& s : g_slots)
          if (s.state.load() == kSlotSignalled) {
            format_to(error, error_len, "thread %d did not stop within %d s (is signal %d blocked?)", s.real_tid,
                      static_cast<int>(kThreadStopTimeoutNs / 1'000'000'000), g_config.suspend_signal);
            break;
          }
        resume_threads();
        return -1;
      }
    }
  }
  CKPT_LOG(Debug, "suspended %d threads", signalled);
  return signalled;
}

void resume_threads() {
  fork_gate_open();
  g_suspending.store(false, std::memory_order_release);
  for (auto& s : g_slots) s.state.store(kSlotFree);
  g_resume_word.fetch_add(1, std::memory_order_acq_rel);
  futex_wake_all(&g_resume_word);
}

int await_restored_threads(int expected) {
  int64_t deadline = monotonic_ns() + kThreadStopTimeoutNs;
  while (g_restored.load() < expected && monotonic_ns() < deadline) futex_wait(&g_restored, g_restored.load(), 50'000'000);
  return g_restored.load();
}

int parked_slots(ThreadSlot** out, int max) {
  int n = 0;
  for (auto& s : g_slots)
    if (s.state.load() == kSlotParked && n < max) out[n++] = &s;
  return n;
}

}  // namespace ckpt
