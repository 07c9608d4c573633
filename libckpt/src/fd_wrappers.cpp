// close, close_range, closefrom, dup2 and dup3 as the application sees
// them: libckpt's protected descriptors (protected_fds.cpp) do not exist for
// it. Closing one fails with EBADF, ranges are closed around them, and a
// dup2/dup3 onto one first moves ours away (under the fork gate, so no
// checkpoint starts while our descriptor table is half updated).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "core.h"

namespace ckpt {
namespace {

using close_fn = int (*)(int);
using close_range_fn = int (*)(unsigned, unsigned, int);
using dup2_fn = int (*)(int, int);
using dup3_fn = int (*)(int, int, int);

close_fn g_close = nullptr;
close_range_fn g_close_range = nullptr;
dup2_fn g_dup2 = nullptr;
dup3_fn g_dup3 = nullptr;

__attribute__((constructor(101))) void resolve() {
  g_close = reinterpret_cast<close_fn>(dlsym(RTLD_NEXT, "close"));
  g_close_range = reinterpret_cast<close_range_fn>(dlsym(RTLD_NEXT, "close_range"));
  g_dup2 = reinterpret_cast<dup2_fn>(dlsym(RTLD_NEXT, "dup2"));
  g_dup3 = reinterpret_cast<dup3_fn>(dlsym(RTLD_NEXT, "dup3"));
}

template <typename Fn>
Fn real(Fn& fn) {
  if (!fn) resolve();
  return fn;
}

// Closes [first, last] except our descriptors, in as few calls as possible.
int close_range_around_ours(unsigned first, unsigned last, int flags) {
  auto fn = real(g_close_range);
  if (!fn) {
    errno = ENOSYS;
    return -1;
  }
  if (first > last) return fn(first, last, flags);  // the kernel's EINVAL
  int ours[64];
  int n = list_protected_fds(ours, 64);
  unsigned from = first;
  for (int i = 0; i < n; ++i) {
    unsigned p = static_cast<unsigned>(ours[i]);
    if (p < from || p > last) continue;
    if (p > from) {
      if (fn(from, p - 1, flags) != 0) return -1;
      flags &= ~CLOSE_RANGE_UNSHARE;  // done by the first call
    }
    from = p + 1;
  }
  if (from > last || from < first) return 0;
  return fn(from, last, flags);
}

// Before the application's descriptor lands on `target`: if that is ours,
// move ours away first. Returns false (errno set) if the application must
// get an error instead.
bool make_room(int oldfd, int target) {
  if (is_protected_fd(oldfd)) {
    errno = EBADF;  // ours do not exist for the application
    return false;
  }
  if (!is_protected_fd(target) || oldfd == target) return true;
  if (move_protected_fd_away(target) < 0) {
    errno = EBUSY;  // the protected range is full: refuse rather than clobber
    return false;
  }
  wake_checkpoint_thread();
  return true;
}

}  // namespace
}  // namespace ckpt

using namespace ckpt;

extern "C" {

int close(int fd) {
  if (is_protected_fd(fd)) {
    errno = EBADF;
    return -1;
  }
  return real(g_close)(fd);
}

int close_range(unsigned first, unsigned last, int flags) { return close_range_around_ours(first, last, flags); }

void closefrom(int lowfd) {
  if (lowfd < 0) lowfd = 0;
  if (close_range_around_ours(static_cast<unsigned>(lowfd), ~0U, 0) == 0) return;
  // No close_range in this kernel: one by one.
  for (int fd = lowfd, max = static_cast<int>(sysconf(_SC_OPEN_MAX)); fd < max; ++fd)
    if (!is_protected_fd(fd)) real(g_close)(fd);
}

int dup2(int oldfd, int newfd) {
  if (!is_protected_fd(newfd) && !is_protected_fd(oldfd)) return real(g_dup2)(oldfd, newfd);
  fork_gate_enter();
  int rc = make_room(oldfd, newfd) ? real(g_dup2)(oldfd, newfd) : -1;
  int err = errno;
  fork_gate_leave();
  errno = err;
  return rc;
}

int dup3(int oldfd, int newfd, int flags) {
  if (!is_protected_fd(newfd) && !is_protected_fd(oldfd)) return real(g_dup3)(oldfd, newfd, flags);
  fork_gate_enter();
  int rc = make_room(oldfd, newfd) ? real(g_dup3)(oldfd, newfd, flags) : -1;
  int err = errno;
  fork_gate_leave();
  errno = err;
  return rc;
}

}  // extern "C"
