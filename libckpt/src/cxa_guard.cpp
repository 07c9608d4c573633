// Function-local statics (`static auto real = dlsym(...)` in our wrappers)
// are guarded by __cxa_guard_acquire/release. libstdc++'s versions would be
// the only reason to load libstdc++.so into every process of a computation
// (a measurable part of each exec's start-up), and they take a mutex. These
// are libckpt's own, hidden so they never interpose the application's: a
// byte flag per guard, the loser of a race yields until the winner is done.
#include <sched.h>
#include <stdint.h>

#include <atomic>

namespace {

// Itanium C++ ABI guard: byte 0 = initialised; byte 1 = ours, in progress.
std::atomic<uint8_t>& done_byte(uint64_t* g) { return *reinterpret_cast<std::atomic<uint8_t>*>(g); }
std::atomic<uint8_t>& busy_byte(uint64_t* g) { return *(reinterpret_cast<std::atomic<uint8_t>*>(g) + 1); }

}  // namespace

extern "C" {

__attribute__((visibility("hidden"))) int __cxa_guard_acquire(uint64_t* g) {
  for (;;) {
    if (done_byte(g).load(std::memory_order_acquire)) return 0;
    uint8_t expected = 0;
    if (busy_byte(g).compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
      if (!done_byte(g).load(std::memory_order_acquire)) return 1;  // we initialise
      busy_byte(g).store(0, std::memory_order_release);
      return 0;
    }
    sched_yield();
  }
}

__attribute__((visibility("hidden"))) void __cxa_guard_release(uint64_t* g) {
  done_byte(g).store(1, std::memory_order_release);
  busy_byte(g).store(0, std::memory_order_release);
}

__attribute__((visibility("hidden"))) void __cxa_guard_abort(uint64_t* g) {
  busy_byte(g).store(0, std::memory_order_release);
}

}  // extern "C"
