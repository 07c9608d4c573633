// Function-local statics (`static auto real = dlsym(...)` in our wrappers)
// are guarded by __cxa_guard_acquire/release. libstdc++'s versions would be
// the only reason to load libstdc++.so into every process of a computation
// (a measurable part of each exec's start-up), and they take a mutex. These
// are libckpt's own, hidden so they never interpose the application's; the
// loser of a race yields until the winner is done.
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>

#include <atomic>

#include "ckpt/raw_syscall.h"

namespace {

// Itanium C++ ABI guard: byte 0 = initialised (tested inline by the
// compiler); bytes 4-7 = ours: the kernel pid of the process whose thread is
// initialising, 0 when nobody is.
//
// The pid, not a flag: a fork can copy a guard another thread was in the
// middle of initialising. That thread does not exist in the child, so the
// child must take the initialisation over instead of waiting forever (a
// child stuck in the poll wrapper's guard hung a process-tree test).
std::atomic<uint8_t>& done_byte(uint64_t* g) { return *reinterpret_cast<std::atomic<uint8_t>*>(g); }
std::atomic<uint32_t>& owner_word(uint64_t* g) { return *(reinterpret_cast<std::atomic<uint32_t>*>(g) + 1); }

uint32_t kernel_pid() { return static_cast<uint32_t>(ckpt::raw_syscall(SYS_getpid)); }

}  // namespace

extern "C" {

__attribute__((visibility("hidden"))) int __cxa_guard_acquire(uint64_t* g) {
  const uint32_t me = kernel_pid();
  for (;;) {
    if (done_byte(g).load(std::memory_order_acquire)) return 0;
    uint32_t owner = owner_word(g).load(std::memory_order_acquire);
    // Free, or left behind by an initialiser in the process we were forked from.
    if (owner != me && owner_word(g).compare_exchange_strong(owner, me, std::memory_order_acquire)) {
      if (!done_byte(g).load(std::memory_order_acquire)) return 1;  // we initialise
      owner_word(g).store(0, std::memory_order_release);
      return 0;
    }
    sched_yield();  // another thread of this process is initialising
  }
}

__attribute__((visibility("hidden"))) void __cxa_guard_release(uint64_t* g) {
  done_byte(g).store(1, std::memory_order_release);
  owner_word(g).store(0, std::memory_order_release);
}

__attribute__((visibility("hidden"))) void __cxa_guard_abort(uint64_t* g) {
  owner_word(g).store(0, std::memory_order_release);
}

}  // extern "C"
