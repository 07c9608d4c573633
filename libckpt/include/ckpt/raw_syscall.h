/* Raw Linux system calls for libckpt and its plugins.
 *
 * libckpt interposes some C library functions (getpid, kill, syscall, ...)
 * to present virtual ids. Code inside libckpt that needs the kernel's answer
 * must not go through those wrappers, so it calls the kernel directly. */
#ifndef CKPT_RAW_SYSCALL_H
#define CKPT_RAW_SYSCALL_H

#include <errno.h>

/* Returns the kernel's result: -errno on failure. Plain C, so that the
 * freestanding restorer uses it too. */
static inline long ckpt_raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
  long ret;
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

/* Whether a wrapper may read `len` bytes of the application's memory at
 * `p` without faulting: not in the NULL page, not outside user space, and
 * every page mapped readable. A pointer that fails is left to the real call,
 * which answers EFAULT as it would without ckpt; reading it would kill the
 * program instead. Async-signal-safe; costs one cheap system call per page
 * outside the main program's own image (user_memory.cpp). A page that
 * another thread unmaps between the check and the read still faults, as it
 * would in the application's own code. Defined in libckpt.so only. */
#ifdef __cplusplus
extern "C" {
#endif
int ckpt_readable_user_memory(const void *p, unsigned long len);

/* The length of the string at `s` (strnlen(s, max)) if every byte of it up
 * to its NUL, or its first `max` bytes, can be read; -1 otherwise. */
long ckpt_user_string_length(const char *s, unsigned long max);

/* Whether the NULL-terminated vector `v` (an argv, an environment) and each
 * of its strings can be read, each string ending within `max_each` bytes.
 * NULL counts as an empty vector, as the kernel's execve takes it. */
int ckpt_readable_user_strings(char *const *v, unsigned long max_each);
#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C++" {
namespace ckpt {

inline long raw_syscall(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0) {
  return ckpt_raw_syscall6(nr, a1, a2, a3, a4, a5, a6);
}

/* Like syscall(2): -1 with errno set on failure. */
template <typename... Args>
inline long sys(long nr, Args... args) {
  long ret = raw_syscall(nr, (long)args...);
  if (ret < 0 && ret > -4096) {
    errno = (int)-ret;
    return -1;
  }
  return ret;
}

}  // namespace ckpt
}
#endif

#endif
