// fork() and vfork(): every process created inside a computation joins it.
//
// The forking thread holds the fork gate (fork_gate.cpp) from before the
// fork until the child is registered with the coordinator, so a checkpoint
// sees either no child or a registered one. The child drops the parent's
// coordinator connection and checkpoint state, takes a new identity, tells
// the plugins (CKPT_EVENT_FORK_CHILD), registers (Hello ... Welcome) and
// starts its own checkpoint thread; then it tells the parent through a pipe.
// Both return from fork only after that (the parent waits a bounded time:
// a vanished coordinator must not hang the application).
//
// After a restart the kernel may hand a new child a pid that is the virtual
// pid of another live process of the computation. Such a child would be
// ambiguous to every pid wrapper, so it exits at once and the fork is
// retried (DMTCP's approach).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt/raw_syscall.h"
#include "core.h"
#include "log.h"

namespace ckpt {
namespace {

using fork_fn = pid_t (*)();
fork_fn g_real_fork = nullptr;

// The child's registration: connect, Hello, Welcome. The parent waits a bit
// longer than the child may take.
constexpr int kRegisterMs = 5000;
constexpr int kParentWaitMs = kRegisterMs + 3000;
constexpr int kMaxForkAttempts = 64;

// What the child tells its parent through the pipe.
enum ChildVerdict : char {
  kChildJoined = 'J',    // registered with the coordinator
  kChildAlone = 'A',     // runs, but no coordinator answered (its checkpoint thread keeps trying)
  kChildRetry = 'R',     // its pid is another process's virtual pid: it exits, fork again
};

__attribute__((constructor(101))) void resolve_real_fork() {
  g_real_fork = reinterpret_cast<fork_fn>(dlsym(RTLD_NEXT, "fork"));
}

// A pipe among libckpt's protected descriptors: the child may close "all
// descriptors" (through our wrappers) before it hears back from us.
bool notify_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  protect_fd(fds[0], &fds[0]);
  protect_fd(fds[1], &fds[1]);
  return true;
}

void tell_parent(int fd, ChildVerdict v) {
  char c = v;
  while (write(fd, &c, 1) < 0 && errno == EINTR) {
  }
  close_own_fd(fd);
}

// The child's side, on the only thread it has.
void join_computation(int notify_fd) {
  fork_gate_reset_in_child();
  exec_state_after_fork();
  checkpoint_state_after_fork();
  dispatch_event(CKPT_EVENT_FORK_CHILD, nullptr);
  bool joined = register_with_coordinator(kRegisterMs);
  start_checkpoint_thread();
  CKPT_LOG(Info, "forked from pid %d%s", static_cast<int>(sys(SYS_getppid)),
           joined ? "" : "; no coordinator yet");
  tell_parent(notify_fd, joined ? kChildJoined : kChildAlone);
  fork_gate_leave();
}

// The parent's side: what the child said, or kChildAlone if it said nothing
// in time (or died first: the application will find out from wait()).
ChildVerdict await_child(int fd, pid_t child) {
  pollfd p{fd, POLLIN, 0};
  char c = 0;
  int rc = poll(&p, 1, kParentWaitMs);
  if (rc == 1 && read(fd, &c, 1) == 1) return static_cast<ChildVerdict>(c);
  if (rc == 0) CKPT_LOG(Warn, "child %d did not register within %d ms", static_cast<int>(child), kParentWaitMs);
  return kChildAlone;
}

}  // namespace

pid_t real_fork() {
  if (!g_real_fork) resolve_real_fork();
  return g_real_fork();
}

pid_t checkpointed_fork() {
  if (!libckpt_active() || !checkpoint_thread_running()) return real_fork();
  fork_gate_enter();
  dispatch_event(CKPT_EVENT_PRE_FORK, nullptr);
  for (int attempt = 1;; ++attempt) {
    int notify[2];
    if (!notify_pipe(notify)) {
      // Out of descriptors: the application gets the error a fork would.
      int err = errno;
      fork_gate_leave();
      errno = err;
      return -1;
    }
    pid_t pid = real_fork();
    if (pid == 0) {
      close_own_fd(notify[0]);
      pid_t self = raw_getpid();
      if (ckpt_real_pid(self) != self && attempt < kMaxForkAttempts) {
        tell_parent(notify[1], kChildRetry);
        sys(SYS_exit_group, 0);
      }
      join_computation(notify[1]);
      return 0;
    }
    int err = errno;
    close_own_fd(notify[1]);
    if (pid < 0) {
      close_own_fd(notify[0]);
      fork_gate_leave();
      errno = err;
      return -1;
    }
    ChildVerdict verdict = await_child(notify[0], pid);
    close_own_fd(notify[0]);
    if (verdict == kChildRetry) {
      CKPT_LOG(Debug, "fork: child pid %d is taken as a virtual pid; forking again", static_cast<int>(pid));
      int status;
      sys(SYS_wait4, pid, &status, __WALL, nullptr);
      continue;
    }
    dispatch_event(CKPT_EVENT_FORK_PARENT, &pid);
    fork_gate_leave();
    errno = err;
    return pid;
  }
}

}  // namespace ckpt

extern "C" {

pid_t fork(void) { return ckpt::checkpointed_fork(); }

// vfork's shared address space cannot be honoured while the child registers
// and starts a thread of its own; a copy-on-write fork is a valid vfork.
pid_t vfork(void) { return ckpt::checkpointed_fork(); }

}  // extern "C"
