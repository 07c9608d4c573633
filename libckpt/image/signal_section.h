// Section "signal" (plugins/signal): the process's signal dispositions and the
// signals pending at checkpoint time, for ckpt_info. Restart needs no copy of
// it: the plugin's own copy comes back with the process's memory.
#pragma once

#include <stdint.h>

namespace ckpt::image {

inline constexpr char kSignalSection[] = "signal";
inline constexpr uint32_t kSignalSectionVersion = 1;
inline constexpr uint32_t kMaxSignal = 64;
inline constexpr uint32_t kMaxQueuedSignals = 256;
inline constexpr uint32_t kMaxPendingThreads = 1024;

// The kernel's struct sigaction on x86-64 (not glibc's), as rt_sigaction
// reads and writes it.
struct SavedSigaction {
  uint64_t handler;  // SIG_DFL (0), SIG_IGN (1) or the handler's address
  uint64_t flags;    // SA_*
  uint64_t restorer;
  uint64_t mask;     // signals blocked while the handler runs, bit (sig - 1)
};

// A siginfo_t as the kernel fills it (128 bytes on x86-64): the common head,
// then the union whose meaning depends on code and signo.
struct SavedSiginfo {
  int32_t signo;
  int32_t err;
  int32_t code;  // SI_USER, SI_QUEUE, SI_TKILL, SI_KERNEL, SI_TIMER, CLD_* ...
  int32_t pad;
  uint8_t fields[112];
};

// Signals pending for one thread (not the whole process), bit (sig - 1).
struct ThreadPendingSignals {
  int32_t virt_tid;
  uint32_t reserved;
  uint64_t pending;
};

struct SignalSection {
  uint32_t version;
  uint32_t queued_count;  // valid entries of `queued`
  uint32_t thread_count;  // valid entries of `threads`
  uint32_t reserved;
  // Indexed by signal number; [0], SIGKILL, SIGSTOP and libckpt's suspend
  // signal stay zero.
  SavedSigaction actions[kMaxSignal + 1];
  // Signals pending for the whole process, with their siginfo (an itimer's
  // SIGALRM must come back as SI_KERNEL, a sigqueue() with its value).
  SavedSiginfo queued[kMaxQueuedSignals];
  ThreadPendingSignals threads[kMaxPendingThreads];
};

}  // namespace ckpt::image
