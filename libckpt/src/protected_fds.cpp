// libckpt's own descriptors (coordinator connection, log, wake-up eventfd,
// image writer pidfd and pipe, fork notification pipe, plugins' files) live
// at or above a base near the top of the soft RLIMIT_NOFILE, away from the
// numbers applications use. The close/close_range/closefrom/dup2/dup3
// wrappers (fd_wrappers.cpp) never close or clobber them: a program that
// closes "every descriptor above 2" before exec (Python's subprocess does)
// must not cut a process off from its coordinator.
//
// The registry is a small table of our numbers and, for each, where its
// owner keeps it (so a dup2 onto one of ours can move it away and tell the
// owner).
// Atomics only: the checkpoint thread reads it while other threads are frozen.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"
#include "core.h"

namespace ckpt {
namespace {

constexpr int kMaxOwn = 64;
constexpr int kPreferredBase = 1000;

std::atomic<int> g_base{-1};
// The registry: our descriptor numbers plus one (0: a free entry, so the
// zeroed table needs no initialisation) and where each owner keeps its number.
std::atomic<int> g_fd_plus1[kMaxOwn];
std::atomic<int*> g_owner[kMaxOwn];

int base() {
  int b = g_base.load(std::memory_order_acquire);
  if (b >= 0) return b;
  // Room for ours below the soft limit; applications rarely reach this high.
  struct rlimit rl;
  long soft = sys(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0 ? static_cast<long>(rl.rlim_cur) : 1024;
  long want = soft - kMaxOwn;
  if (want > kPreferredBase) want = kPreferredBase;
  if (want < 3) want = 3;
  b = static_cast<int>(want);
  g_base.store(b, std::memory_order_release);
  return b;
}

int entry_of(int fd) {
  int b = g_base.load(std::memory_order_acquire);
  if (fd < 0 || b < 0 || fd < b) return -1;  // the common case for the application's close(): no scan
  for (int i = 0; i < kMaxOwn; ++i)
    if (g_fd_plus1[i].load(std::memory_order_acquire) == fd + 1) return i;
  return -1;
}

bool add_entry(int fd, int* owner) {
  for (int i = 0; i < kMaxOwn; ++i) {
    int expected = 0;
    if (g_fd_plus1[i].load(std::memory_order_relaxed) == 0 && g_fd_plus1[i].compare_exchange_strong(expected, fd + 1)) {
      g_owner[i].store(owner, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

void remove_entry(int fd) {
  int i = entry_of(fd);
  if (i < 0) return;
  g_owner[i].store(nullptr, std::memory_order_relaxed);
  g_fd_plus1[i].store(0, std::memory_order_release);
}

// Held while one of ours sits at an application number (own_fd_window).
std::atomic<bool> g_window{false};

}  // namespace

void own_fd_window_enter() {
  bool expected = false;
  while (!g_window.compare_exchange_weak(expected, true, std::memory_order_acquire)) {
    expected = false;
    sys(SYS_sched_yield);
  }
}

void own_fd_window_leave() { g_window.store(false, std::memory_order_release); }

int protect_fd(int fd, int* owner) {
  if (fd < 0) return fd;
  int i = entry_of(fd);
  if (i >= 0) {
    g_owner[i].store(owner, std::memory_order_relaxed);
    if (owner) *owner = fd;
    return fd;
  }
  long high = sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base());
  if (high >= 0) {
    if (add_entry(static_cast<int>(high), owner)) {
      sys(SYS_close, fd);
      fd = static_cast<int>(high);
    } else {
      sys(SYS_close, high);  // registry full: leave it where it is, unprotected but working
    }
  }
  if (owner) *owner = fd;
  return fd;
}

bool is_protected_fd(int fd) { return entry_of(fd) >= 0; }

void close_own_fd(int fd) {
  if (fd < 0) return;
  remove_entry(fd);
  sys(SYS_close, fd);
}

int move_protected_fd_away(int fd) {
  int i = entry_of(fd);
  if (i < 0) return fd;
  long moved = sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base());
  if (moved < 0) return -1;
  int* owner = g_owner[i].load(std::memory_order_relaxed);
  g_fd_plus1[i].store(static_cast<int>(moved) + 1, std::memory_order_release);
  if (owner) *owner = static_cast<int>(moved);
  // The caller's dup2 now replaces `fd`; our copy lives on at `moved`.
  return static_cast<int>(moved);
}

int list_protected_fds(int* out, int max) {
  int n = 0;
  for (int i = 0; i < kMaxOwn && n < max; ++i) {
    int fd = g_fd_plus1[i].load(std::memory_order_acquire) - 1;
    if (fd < 0) continue;
    // Insertion sort: the callers want them ascending.
    int k = n++;
    while (k > 0 && out[k - 1] > fd) {
      out[k] = out[k - 1];
      --k;
    }
    out[k] = fd;
  }
  return n;
}

void forget_protected_fds() {
  // After a restart: the numbers in the image belonged to the old process.
  for (int i = 0; i < kMaxOwn; ++i) {
    g_fd_plus1[i].store(0, std::memory_order_relaxed);
    g_owner[i].store(nullptr, std::memory_order_relaxed);
  }
}

}  // namespace ckpt

extern "C" {

int ckpt_is_protected_fd(int fd) { return ckpt::is_protected_fd(fd) ? 1 : 0; }

int ckpt_protect_fd(int fd, int* owner) { return ckpt::protect_fd(fd, owner); }

void ckpt_close_protected_fd(int fd) { ckpt::close_own_fd(fd); }

}  // extern "C"
