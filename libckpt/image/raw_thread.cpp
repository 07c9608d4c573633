#include "raw_thread.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"

namespace ckpt::image {
namespace {

constexpr size_t kPage = 4096;

// Runs fn(arg) on a new thread of this process, on the stack ending at
// stack_top, and ends that thread with SYS_exit (not exit_group) when fn
// returns. No CLONE_SETTLS: the thread shares the caller's TLS pointer and
// must not write through it. `tid` gets the thread's id now
// (CLONE_PARENT_SETTID) and 0 when it is gone, with a futex wake
// (CLONE_CHILD_CLEARTID). Plain clone, not clone3: a seccomp filter can
// read clone's flags, so programs that allow threads but not processes
// (tests/integration/programs/no_fork.c) let this through. Returns the tid
// or -errno.
long clone_thread(char* stack_top, std::atomic<uint32_t>* tid, void (*fn)(void*), void* arg) {
  const long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                     CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  long rc;
  register long r10 __asm__("r10") = reinterpret_cast<long>(tid);
  register long r8 __asm__("r8") = 0;
  // fn and arg travel in callee-saved registers, which the new thread
  // starts with; it has no frame to return to, so it calls fn and exits.
  __asm__ volatile(
      "movq %[fn], %%r12\n\t"
      "movq %[arg], %%r13\n\t"
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "andq $-16, %%rsp\n\t"
      "movq %%r13, %%rdi\n\t"
      "call *%%r12\n\t"
      "movl %[exit_nr], %%eax\n\t"
      "xorl %%edi, %%edi\n\t"
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "=a"(rc)
      : "a"(static_cast<long>(SYS_clone)), "D"(flags), "S"(stack_top), "d"(tid), "r"(r10), "r"(r8), [fn] "r"(fn),
        [arg] "r"(arg), [exit_nr] "i"(SYS_exit)
      : "rcx", "r11", "r12", "r13", "memory");
  return rc;
}

}  // namespace

char* map_anonymous(size_t size) {
  long p = raw_syscall(SYS_mmap, 0, static_cast<long>(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
  return p < 0 && p > -4096 ? nullptr : reinterpret_cast<char*>(p);
}

long futex_wait(std::atomic<uint32_t>& word, uint32_t seen, bool shared) {
  return raw_syscall(SYS_futex, reinterpret_cast<long>(&word), shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE, seen, 0);
}

void futex_wake(std::atomic<uint32_t>& word, int count) {
  raw_syscall(SYS_futex, reinterpret_cast<long>(&word), FUTEX_WAKE_PRIVATE, count);
}

int RawThread::start(void (*fn)(void*), void* arg, size_t stack, size_t extra) {
  join();
  guard_ = kPage;
  stack_ = (stack + kPage - 1) & ~(kPage - 1);
  size_ = guard_ + stack_ + extra;
  mapping_ = map_anonymous(size_);
  if (!mapping_) return -ENOMEM;
  // An overflow hits the guard page: a crash of the writer, which fails the
  // checkpoint, rather than scribbling over the next mapping.
  raw_syscall(SYS_mprotect, reinterpret_cast<long>(mapping_), kPage, PROT_NONE);
  uint64_t all = ~0ull, old = 0;
  raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all), reinterpret_cast<long>(&old),
              sizeof all);
  long tid = clone_thread(mapping_ + guard_ + stack_, &tid_, fn, arg);
  raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&old), 0, sizeof old);
  if (tid < 0) {
    tid_.store(0);
    raw_syscall(SYS_munmap, reinterpret_cast<long>(mapping_), static_cast<long>(size_));
    mapping_ = nullptr;
    return static_cast<int>(tid);
  }
  return 0;
}

void RawThread::join() {
  if (!mapping_) return;
  // Only once the kernel has cleared the tid is the stack free to go.
  for (uint32_t t; (t = tid_.load(std::memory_order_acquire)) != 0;) futex_wait(tid_, t, true);
  raw_syscall(SYS_munmap, reinterpret_cast<long>(mapping_), static_cast<long>(size_));
  mapping_ = nullptr;
}

}  // namespace ckpt::image
