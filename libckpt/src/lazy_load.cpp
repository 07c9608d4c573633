// After a lazy restart (launcher/lazy_pages.h): the page server's socket,
// and the wait for its message that every page is in. A fork (its child's
// memory would not be registered: it would see zeros where pages are still
// missing) and the snapshot (a fork too, which reads the memory it saves)
// wait for it; so does the write tracker's registration, which comes with
// the snapshot (a range is registered with one userfaultfd at a time).
//
// Raw system calls, atomics and futexes only: any thread may wait, the
// checkpoint thread included while the others are frozen.
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include <atomic>
#include <climits>

#include "../restore/restore_args.h"
#include "ckpt/raw_syscall.h"
#include "core.h"
#include "log.h"

namespace ckpt {
namespace {

enum State : int { kNone = 0, kPending = 1, kFinishing = 2, kDone = 3 };
std::atomic<int> g_state{kNone};
int g_fd = -1;
int64_t g_started_ns = 0;

// Takes the server's message (the caller won the race to it).
void finish() {
  ckpt_lazy_done done{};
  long n;
  do n = sys(SYS_read, g_fd, &done, sizeof done, 0, 0, 0);
  while (n == -EINTR);
  close_own_fd(g_fd);
  g_fd = -1;
  if (n != static_cast<long>(sizeof done) || !done.complete) {
    // Its userfaultfd is gone with it: missing pages would read as zeros.
    CKPT_LOG(Error, "lazy restart: the page server stopped before all memory was in; the process cannot go on");
    sys(SYS_kill, sys(SYS_getpid), SIGKILL);
  }
  CKPT_LOG(Info, "lazy restart: all memory in (%lu MiB loaded) %ld ms after ckpt_restart started",
           static_cast<unsigned long>(done.bytes >> 20),
           static_cast<long>(done.loaded_ns > g_started_ns ? (done.loaded_ns - g_started_ns) / 1'000'000 : 0));
  g_state.store(kDone);
  sys(SYS_futex, reinterpret_cast<int*>(&g_state), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace

void lazy_load_begin(int fd, int64_t restart_started_ns) {
  g_started_ns = restart_started_ns;
  g_fd = protect_fd(fd, &g_fd);
  g_state.store(kPending);
}

int lazy_load_fd() { return g_state.load() == kPending ? g_fd : -1; }

void lazy_load_poll() {
  int expected = kPending;
  if (g_state.compare_exchange_strong(expected, kFinishing)) finish();
}

void wait_for_lazy_load() {
  const struct timespec slice = {0, 20'000'000};
  for (;;) {
    const int s = g_state.load();
    if (s == kNone || s == kDone) return;
    if (s == kPending) {
      // Another thread may take the message and close the descriptor
      // meanwhile: a bounded wait, and the state decides.
      struct pollfd p = {g_fd, POLLIN, 0};
      if (sys(SYS_ppoll, &p, 1, &slice, nullptr, 8) == 1 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
        lazy_load_poll();
    } else {
      sys(SYS_futex, reinterpret_cast<int*>(&g_state), FUTEX_WAIT_PRIVATE, kFinishing, &slice, nullptr, 0);
    }
  }
}

}  // namespace ckpt
