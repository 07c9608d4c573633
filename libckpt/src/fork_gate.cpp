// The fork gate: no checkpoint begins while a thread is creating a process.
//
// A fork must be all-or-nothing for a checkpoint: either the child exists
// and is registered with the coordinator (so it takes part), or it does not
// exist yet. Forking threads pass through the gate; the suspend step closes
// it and waits until every fork in progress has left before it signals any
// thread. A thread that arrives while the gate is closed waits on a futex,
// where the suspend signal can still reach it.
//
// Only atomics and futexes: the checkpoint thread may close the gate while
// application threads hold any lock.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>

#include <climits>

#include "ckpt/raw_syscall.h"
#include "core.h"

namespace ckpt {
namespace {

std::atomic<int> g_forks_in_progress{0};
std::atomic<int> g_gate_closed{0};

void futex_wait(std::atomic<int>* word, int expected, const struct timespec* timeout) {
  sys(SYS_futex, reinterpret_cast<int*>(word), FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

void futex_wake_all(std::atomic<int>* word) {
  sys(SYS_futex, reinterpret_cast<int*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

int64_t monotonic_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1'000'000;
}

}  // namespace

void fork_gate_enter() {
  for (;;) {
    while (g_gate_closed.load() != 0) futex_wait(&g_gate_closed, 1, nullptr);
    g_forks_in_progress.fetch_add(1);
    // Sequentially consistent on both sides (Dekker): either the closer sees
    // our count, or we see its flag and back off.
    if (g_gate_closed.load() == 0) return;
    fork_gate_leave();
  }
}

void fork_gate_leave() {
  if (g_forks_in_progress.fetch_sub(1) == 1) futex_wake_all(&g_forks_in_progress);
}

bool fork_gate_close(int timeout_ms) {
  g_gate_closed.store(1);
  int64_t deadline = monotonic_ms() + timeout_ms;
  for (;;) {
    int n = g_forks_in_progress.load();
    if (n == 0) return true;
    int64_t left = deadline - monotonic_ms();
    if (left <= 0) return false;
    struct timespec ts = {static_cast<time_t>(left / 1000), static_cast<long>(left % 1000) * 1'000'000};
    futex_wait(&g_forks_in_progress, n, &ts);
  }
}

void fork_gate_open() {
  g_gate_closed.store(0);
  futex_wake_all(&g_gate_closed);
}

void fork_gate_reset_in_child() {
  // The parent's other forks (and a suspend step waiting for them) did not
  // come along; only the calling thread, still inside its fork, did.
  g_gate_closed.store(0);
  g_forks_in_progress.store(1);
}

}  // namespace ckpt
