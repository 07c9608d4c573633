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
#include <pthread.h>
#include <sys/stat.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "ckpt/plugin.h"
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

// Pipe ends a parent hands to exactly one child, which closes them by exec
// or exit to say it got that far (fork registration, posix_spawn errors,
// vfork). Every other fork child must close them at once: a copy held by
// an unrelated child would keep the parent waiting for that child's exit.
constexpr int kMaxChildPipes = 64;
std::atomic<int> g_child_pipes[kMaxChildPipes];  // fd + 1; 0 = free

void add_child_pipe(int fd) {
  for (auto& slot : g_child_pipes) {
    int expected = 0;
    if (slot.compare_exchange_strong(expected, fd + 1)) return;
  }
}

void forget_child_pipes() {
  for (auto& slot : g_child_pipes) slot.store(0);
}

void remove_child_pipe(int fd) {
  for (auto& slot : g_child_pipes) {
    int expected = fd + 1;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

// In a new child: closes the other children's pipe ends.
void close_foreign_child_pipes(int keep_a, int keep_b) {
  for (auto& slot : g_child_pipes) {
    int fd = slot.load() - 1;
    if (fd < 0 || fd == keep_a || fd == keep_b) continue;
    slot.store(0);
    // A number the application took over by dup2 is not ours to close.
    if (is_protected_fd(fd)) close_own_fd(fd);
  }
}

// Set while our wrapper forks: the atfork handler below leaves those
// children alone.
__thread bool t_forking_here __attribute__((tls_model("initial-exec")));

// A fork that bypassed our wrappers (the C library forking internally): the
// child has no checkpoint thread and runs outside the computation; it must
// not keep the parent's coordinator connection open.
void fork_outside_wrapper_child() {
  if (libckpt_active() && !t_forking_here) forget_checkpoint_thread();
}

__attribute__((constructor(101))) void resolve_real_fork() {
  g_real_fork = reinterpret_cast<fork_fn>(dlsym(RTLD_NEXT, "fork"));
  pthread_atfork(nullptr, nullptr, fork_outside_wrapper_child);
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
  // Out of the table too: a descriptor of ours that takes the number later
  // must not look like a pipe for this process's own children to close.
  remove_child_pipe(fd);
  close_own_fd(fd);
}

// The child's side, on the only thread it has.
void join_computation(int notify_fd, int keep_fd) {
  close_foreign_child_pipes(notify_fd, keep_fd);
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

bool clone_is_fork_like(int flags) {
  if (flags & CLONE_THREAD) return false;
  const int exit_signal = flags & CSIGNAL;
  const int rest = flags & ~CSIGNAL & ~(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID);
  if (exit_signal != SIGCHLD) return false;
  return rest == 0 || rest == (CLONE_VM | CLONE_VFORK);
}

pid_t real_fork() {
  wait_for_lazy_load();  // the child's memory would not be registered
  if (!g_real_fork) resolve_real_fork();
  return g_real_fork();
}

pid_t checkpointed_fork(int child_keeps) {
  if (!libckpt_active() || !checkpoint_thread_running()) return real_fork();
  wait_for_lazy_load();  // outside the gate: a checkpoint need not wait for the load too
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
    add_child_pipe(notify[1]);
    t_forking_here = true;
    own_fd_window_enter();
    pid_t pid = real_fork();
    own_fd_window_leave();
    t_forking_here = false;
    if (pid == 0) {
      close_own_fd(notify[0]);
      pid_t self = raw_getpid();
      if (ckpt_real_pid(self) != self && attempt < kMaxForkAttempts) {
        tell_parent(notify[1], kChildRetry);
        sys(SYS_exit_group, 0);
      }
      join_computation(notify[1], child_keeps);
      return 0;
    }
    int err = errno;
    remove_child_pipe(notify[1]);
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

int child_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  // No owner to update: in the child the write end outlives the caller's
  // frame (it lives until exec).
  fds[0] = protect_fd(fds[0], nullptr);
  fds[1] = protect_fd(fds[1], nullptr);
  add_child_pipe(fds[1]);
  return 0;
}

void parent_done_with_child_pipe(int write_end) {
  remove_child_pipe(write_end);
  close_own_fd(write_end);
}

void child_done_with_pipe(int read_end) { close_own_fd(read_end); }

// Counts restarts of this process: a wait on one of our pipes must not go
// on across one (see read_own_pipe).
std::atomic<uint64_t> g_restarts{0};

bool wait_for_exec_or_exit(int read_end) {
  char c;
  ssize_t n = read_own_pipe(read_end, &c, 1);
  if (n == kPipeGoneAfterRestart) return false;  // not our number any more: leave it
  close_own_fd(read_end);
  return n == 0;
}

pid_t vfork_like_fork() {
  if (!libckpt_active() || !checkpoint_thread_running()) return real_fork();
  int pipe_fds[2];
  if (child_pipe(pipe_fds) != 0) return checkpointed_fork(-1);
  pid_t pid = checkpointed_fork(pipe_fds[1]);
  if (pid == 0) {
    child_done_with_pipe(pipe_fds[0]);
    return 0;  // the write end closes by itself at exec or exit
  }
  int err = errno;
  parent_done_with_child_pipe(pipe_fds[1]);
  if (pid > 0) wait_for_exec_or_exit(pipe_fds[0]);
  else close_own_fd(pipe_fds[0]);
  errno = err;
  return pid;
}

// Our pipes are not restored: after a restart the number may name another
// of our descriptors (a parent waiting there hung, or read the
// coordinator's bytes). So a checkpoint makes the read fail with EINTR
// (plugin.h), and after a restart we stop waiting: the restored child execs
// or exits on its own.
ssize_t read_own_pipe(int fd, void* buf, size_t len) {
  const uint64_t restarts = g_restarts.load();
  for (;;) {
    ckpt_translated_call_begin();
    ssize_t n = read(fd, buf, len);
    const int err = errno;
    ckpt_translated_call_end();
    if (n >= 0 || err != EINTR) {
      errno = err;
      return n;
    }
    if (g_restarts.load() != restarts) return kPipeGoneAfterRestart;
  }
}

void forget_fork_state_after_restart() {
  forget_child_pipes();  // numbers of the old process
  g_restarts.fetch_add(1);
}

}  // namespace ckpt

extern "C" {

pid_t fork(void) { return ckpt::checkpointed_fork(-1); }

// vfork's shared address space cannot be honoured while the child registers
// and starts a thread of its own: a copy-on-write fork is a valid vfork. As
// with vfork, the parent goes on once the child has exec'ed or exited.
pid_t vfork(void) { return ckpt::vfork_like_fork(); }

// daemon() forks inside the C library: do it on our fork, so the daemon
// stays in the computation (its parent exits at once, as daemon's does).
int daemon(int nochdir, int noclose) {
  pid_t pid = ckpt::checkpointed_fork(-1);
  if (pid < 0) return -1;
  if (pid > 0) _exit(0);
  if (setsid() < 0) return -1;
  if (!nochdir && chdir("/") != 0) return -1;
  if (!noclose) {
    int fd = open("/dev/null", O_RDWR);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
      if (fd >= 0) close(fd);
      if (fd >= 0) errno = ENODEV;
      return -1;
    }
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) close(fd);
  }
  return 0;
}

// clone() without CLONE_THREAD creates a process. The fork-like kinds (no
// shared memory, or CLONE_VM|CLONE_VFORK as posix_spawn implementations use)
// become our fork, with fn(arg) run in the child (on the fork's stack, not
// the one given); anything more exotic (namespaces, shared descriptor
// tables, another exit signal) runs outside the computation.
int clone(int (*fn)(void*), void* stack, int flags, void* arg, ...) {
  using clone_fn = int (*)(int (*)(void*), void*, int, void*, ...);
  static clone_fn real = reinterpret_cast<clone_fn>(dlsym(RTLD_NEXT, "clone"));
  va_list ap;
  va_start(ap, arg);
  pid_t* parent_tid = va_arg(ap, pid_t*);
  void* tls = va_arg(ap, void*);
  pid_t* child_tid = va_arg(ap, pid_t*);
  va_end(ap);
  if (!ckpt::clone_is_fork_like(flags)) {
    if (!(flags & CLONE_VM)) ckpt::wait_for_lazy_load();
    return real(fn, stack, flags, arg, parent_tid, tls, child_tid);
  }
  pid_t pid = (flags & CLONE_VFORK) ? ckpt::vfork_like_fork() : ckpt::checkpointed_fork(-1);
  if (pid == 0) {
    if (flags & CLONE_CHILD_SETTID) *child_tid = static_cast<pid_t>(ckpt::sys(SYS_getpid));
    if (flags & CLONE_CHILD_CLEARTID) ckpt::sys(SYS_set_tid_address, child_tid);
    // The whole process ends with fn: our checkpoint thread must not outlive it.
    ckpt::sys(SYS_exit_group, fn(arg));
  }
  if (pid > 0 && (flags & CLONE_PARENT_SETTID)) *parent_tid = pid;
  return pid;
}

}  // extern "C"
