// Threads for the image writer, which runs in the snapshot child: a fork of a
// multithreaded process whose other threads froze holding whatever locks
// they held (GUIDE §3.1). So these are not pthreads: raw clone()s on mmap'd
// stacks that share the caller's TLS pointer and run only code that needs
// neither TLS nor allocation nor errno (raw system calls return -errno),
// ending with a raw SYS_exit. The kernel clears the thread's tid word when
// it is gone (CLONE_CHILD_CLEARTID), which join() waits for. If the process
// is killed, the thread dies with it (one thread group).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

namespace ckpt::image {

// An anonymous private mapping of `size` bytes, or nullptr.
char* map_anonymous(size_t size);
long futex_wait(std::atomic<uint32_t>& word, uint32_t seen, bool shared = false);
void futex_wake(std::atomic<uint32_t>& word, int count);

class RawThread {
 public:
  RawThread() = default;
  RawThread(const RawThread&) = delete;
  RawThread& operator=(const RawThread&) = delete;
  ~RawThread() { join(); }

  // Starts fn(arg) with every signal blocked (signals for the writer go to
  // its own thread) on a `stack` bytes stack below a guard page, followed by
  // `extra` bytes of scratch memory (extra_memory()). Returns 0 or -errno,
  // with nothing left running or mapped on failure.
  int start(void (*fn)(void*), void* arg, size_t stack, size_t extra = 0);
  // Waits until the thread has exited (fn returned), then unmaps its stack.
  // Safe when not started, and twice. The caller makes fn return first.
  void join();
  bool running() const { return mapping_ != nullptr; }
  char* extra_memory() const { return mapping_ + guard_ + stack_; }

 private:
  char* mapping_ = nullptr;  // guard page, stack, extra
  size_t size_ = 0, guard_ = 0, stack_ = 0;
  std::atomic<uint32_t> tid_{0};  // futex word: cleared by the kernel when the thread is gone
};

}  // namespace ckpt::image
