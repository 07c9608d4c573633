// The exec family: the program a process execs stays in the computation.
//
// The new program must load libckpt again (LD_PRELOAD and the CKPT_*
// variables are put back into its environment, exec_env.cpp) and go on as
// the same worker: the coordinator connection survives the exec. Before the
// exec the checkpoint thread parks between two messages, once no checkpoint
// of ours is in flight (so no message is half read, no image writer still
// needs an answer); the socket is made inheritable and CKPT_COORD_FD names
// it, with CKPT_EXEC_STATE carrying the worker's identity and image names.
// The new program adopts both before its checkpoint thread starts and sends
// no new Hello: the coordinator sees one process throughout. If the exec
// fails, everything is put back and the checkpoint thread goes on.
//
// The remote shell's command (remote_shell.h) runs on its host under
// ckpt_launch --join; the remote shell itself runs outside the computation,
// as a program that cannot load libckpt does.
//
// A program that cannot load libckpt (statically linked, another
// architecture, secure execution) runs outside the checkpoint: a one-line
// warning, the connection is closed so the coordinator sees the process
// leave, and the exec proceeds with the caller's environment untouched.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "ckpt/environment.h"
#include "core.h"
#include "exec_env.h"
#include "exec_target.h"
#include "log.h"
#include "remote_shell.h"

extern char** environ;

namespace ckpt {
namespace {

using execve_fn = int (*)(const char*, char* const*, char* const*);
using fexecve_fn = int (*)(int, char* const*, char* const*);
using execveat_fn = int (*)(int, const char*, char* const*, char* const*, int);

execve_fn g_execve = nullptr;
execve_fn g_execvpe = nullptr;
fexecve_fn g_fexecve = nullptr;
execveat_fn g_execveat = nullptr;

// Parking waits for a checkpoint of ours in flight (including its image
// writer) to finish; past this, the exec goes ahead without the hand-over.
constexpr int kParkTimeoutMs = 60'000;
constexpr int kMaxExecArgs = 4096;

// One exec hand-over at a time: two threads exec'ing at once must not
// unpark the checkpoint thread under each other.
std::atomic<int> g_exec_lock{0};

__attribute__((constructor(101))) void resolve() {
  g_execve = reinterpret_cast<execve_fn>(dlsym(RTLD_NEXT, "execve"));
  g_execvpe = reinterpret_cast<execve_fn>(dlsym(RTLD_NEXT, "execvpe"));
  g_fexecve = reinterpret_cast<fexecve_fn>(dlsym(RTLD_NEXT, "fexecve"));
  g_execveat = reinterpret_cast<execveat_fn>(dlsym(RTLD_NEXT, "execveat"));
}

void lock_exec() {
  while (g_exec_lock.exchange(1) != 0) sys(SYS_futex, &g_exec_lock, FUTEX_WAIT_PRIVATE, 1, nullptr, nullptr, 0);
}

void unlock_exec() {
  g_exec_lock.store(0);
  sys(SYS_futex, &g_exec_lock, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void warn_outside(const char* path, ExecTarget t) {
  char line[4200];
  size_t n = format_to(line, sizeof line, "ckpt: %s %s; it runs outside the checkpoint\n", path,
                       describe_exec_target(t));
  sys(SYS_write, 2, line, n);
  CKPT_LOG(Warn, "exec %s: %s; it runs outside the checkpoint", path, describe_exec_target(t));
}

// What execvp would run for `file`: the first executable match on PATH
// (only to classify it; the C library's own search does the exec).
ExecTarget classify_on_path(const char* file) {
  if (strchr(file, '/')) return classify_exec_path(AT_FDCWD, file);
  const char* path = getenv("PATH");
  if (!path) path = "/bin:/usr/bin";
  char candidate[4096];
  for (const char* p = path;;) {
    size_t n = strcspn(p, ":");
    if (n + 2 < sizeof candidate) {
      // An empty entry means the current directory.
      memcpy(candidate, n ? p : ".", n ? n : 1);
      format_to(candidate + (n ? n : 1), sizeof candidate - (n ? n : 1), "/%s", file);
      if (access(candidate, X_OK) == 0) return classify_exec_path(AT_FDCWD, candidate);
    }
    if (!p[n]) break;
    p += n + 1;
  }
  return ExecTarget::Checkpointable;
}

// The common path of every exec wrapper. `run(envp)` performs the real exec
// and returns only if it failed.
template <typename Run>
int checkpointed_exec(const char* shown, ExecTarget target, char* const* envp, Run run) {
  if (!libckpt_active()) return run(envp);
  lock_exec();
  dispatch_event(CKPT_EVENT_PRE_EXEC, const_cast<char*>(shown));
  bool parked = park_checkpoint_thread(kParkTimeoutMs);
  if (!parked) CKPT_LOG(Warn, "exec %s: the checkpoint thread stayed busy; the new program reconnects", shown);

  if (target != ExecTarget::Checkpointable) {
    warn_outside(shown, target);
    if (parked) leave_coordinator();
    int rc = run(envp);
    int err = errno;
    // Still us: the checkpoint thread reconnects (a new Hello).
    if (parked) unpark_checkpoint_thread();
    unlock_exec();
    errno = err;
    return rc;
  }

  int fd = parked ? coordinator_fd() : -1;
  char fd_var[48];
  static char state_var[2 * 4096 + 256];  // under g_exec_lock
  // The host name a restart may have changed since the environment was set.
  static char host_var[sizeof g_config.host_name + 32];
  format_to(host_var, sizeof host_var, "%s=%s", CKPT_ENV_HOST_NAME, g_config.host_name);
  const char* extra[3] = {host_var};
  int extra_count = 1;
  if (fd >= 0 && sys(SYS_fcntl, fd, F_SETFD, 0) == 0) {
    format_to(fd_var, sizeof fd_var, "%s=%d", kCoordFdVar, fd);
    size_t n = format_to(state_var, sizeof state_var, "%s=", kExecStateVar);
    exec_handover_state(state_var + n, sizeof state_var - n);
    extra[extra_count++] = fd_var;
    extra[extra_count++] = state_var;
  } else {
    fd = -1;
  }
  int rc, err;
  {
    ExecEnv env;
    char* const* new_envp = env.build(envp, extra, extra_count);
    rc = run(new_envp ? new_envp : envp);
    err = errno;
  }
  if (fd >= 0) sys(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
  if (parked) unpark_checkpoint_thread();
  unlock_exec();
  errno = err;
  return rc;
}

// The remote shell with a command: true (and the exec's result in `rc`) when
// argv is one, rewritten to join the computation on its host and run outside
// the computation here, or refused with a line on stderr (EINVAL).
template <typename Run>
bool run_remote_shell(char* const* argv, char* const* envp, Run run, int& rc) {
  if (!libckpt_active()) return false;
  lock_exec();
  static RshArgv rewritten;  // under g_exec_lock
  char why[4608];
  const RemoteJoin join{g_config.rsh,        g_config.launch_path, g_config.coord_host,
                        g_config.coord_port, g_config.secret_file, g_config.ckptdir};
  const RshMatch match = rewrite_remote_shell(argv, join, rewritten, why, sizeof why);
  if (match == RshMatch::Other || match == RshMatch::Outside) {
    if (match == RshMatch::Outside) {
      char line[sizeof why + 32];
      size_t n = format_to(line, sizeof line, "ckpt: warning: %s\n", why);
      sys(SYS_write, 2, line, n);
      CKPT_LOG(Warn, "%s", why);
    }
    unlock_exec();
    return false;
  }
  if (match == RshMatch::Refused) {
    char line[sizeof why + 16];
    size_t n = format_to(line, sizeof line, "ckpt: %s\n", why);
    sys(SYS_write, 2, line, n);
    CKPT_LOG(Error, "%s", why);
    unlock_exec();
    errno = EINVAL;
    rc = -1;
    return true;
  }
  dispatch_event(CKPT_EVENT_PRE_EXEC, argv[0]);
  bool parked = park_checkpoint_thread(kParkTimeoutMs);
  CKPT_LOG(Info, "remote shell %s: %s runs on %s under ckpt_launch --join; the remote shell runs outside the checkpoint",
           argv[0], rewritten.argv[0], rewritten.host);
  if (parked) leave_coordinator();
  int err;
  {
    ExecEnv env;
    char* const* outside = env.build_outside(envp);
    rc = run(rewritten.argv, outside ? outside : envp);
    err = errno;
  }
  // Still us: the checkpoint thread reconnects (a new Hello).
  if (parked) unpark_checkpoint_thread();
  unlock_exec();
  errno = err;
  return true;
}

// execl-style argument lists, collected on the stack.
int collect_args(const char* arg0, va_list ap, char** argv, int cap) {
  int n = 0;
  argv[n++] = const_cast<char*>(arg0);
  while (argv[n - 1] != nullptr) {
    if (n == cap) {
      errno = E2BIG;
      return -1;
    }
    argv[n++] = va_arg(ap, char*);
  }
  return n;
}

// What the wrappers read of an exec's arguments (the path, argv, envp),
// checked first: an exec whose arguments the kernel cannot read goes
// straight to the C library, which fails with EFAULT as without ckpt.
// MAX_ARG_STRLEN bounds a string the kernel takes; a longer one is E2BIG.
constexpr unsigned long kMaxArgString = 32 * 4096;
bool readable_exec_args(const char* path, char* const* argv, char* const* envp) {
  return ckpt_user_string_length(path, PATH_MAX) >= 0 && ckpt_readable_user_strings(argv, kMaxArgString) &&
         ckpt_readable_user_strings(envp, kMaxArgString);
}

int do_execve(const char* path, char* const* argv, char* const* envp) {
  if (!readable_exec_args(path, argv, envp)) return g_execve(path, argv, envp);
  char mapped[PATH_MAX];  // the program under the path map (plugins/path)
  path = ckpt_path_to_real(path, mapped, sizeof mapped);
  int rc;
  if (run_remote_shell(argv, envp, [&](char* const* a, char* const* e) { return g_execve(path, a, e); }, rc))
    return rc;
  return checkpointed_exec(path, libckpt_active() ? classify_exec_path(AT_FDCWD, path) : ExecTarget::Checkpointable,
                           envp, [&](char* const* e) { return g_execve(path, argv, e); });
}

int do_execvpe(const char* file, char* const* argv, char* const* envp) {
  if (!readable_exec_args(file, argv, envp)) return g_execvpe(file, argv, envp);
  char mapped[PATH_MAX];  // a path (not a name looked up in PATH) under the path map
  file = ckpt_path_to_real(file, mapped, sizeof mapped);
  int rc;
  if (run_remote_shell(argv, envp, [&](char* const* a, char* const* e) { return g_execvpe(file, a, e); }, rc))
    return rc;
  return checkpointed_exec(file, libckpt_active() ? classify_on_path(file) : ExecTarget::Checkpointable, envp,
                           [&](char* const* e) { return g_execvpe(file, argv, e); });
}

}  // namespace

void exec_state_after_fork() { g_exec_lock.store(0); }

int exec_program(const char* file, char* const argv[], char* const envp[], bool use_path) {
  return use_path ? do_execvpe(file, argv, envp) : do_execve(file, argv, envp);
}

}  // namespace ckpt

using namespace ckpt;

extern "C" {

int execve(const char* path, char* const argv[], char* const envp[]) { return do_execve(path, argv, envp); }

int execv(const char* path, char* const argv[]) { return do_execve(path, argv, environ); }

int execvpe(const char* file, char* const argv[], char* const envp[]) { return do_execvpe(file, argv, envp); }

int execvp(const char* file, char* const argv[]) { return do_execvpe(file, argv, environ); }

int execl(const char* path, const char* arg, ...) {
  char* argv[kMaxExecArgs];
  va_list ap;
  va_start(ap, arg);
  int n = collect_args(arg, ap, argv, kMaxExecArgs);
  va_end(ap);
  return n < 0 ? -1 : do_execve(path, argv, environ);
}

int execlp(const char* file, const char* arg, ...) {
  char* argv[kMaxExecArgs];
  va_list ap;
  va_start(ap, arg);
  int n = collect_args(arg, ap, argv, kMaxExecArgs);
  va_end(ap);
  return n < 0 ? -1 : do_execvpe(file, argv, environ);
}

int execle(const char* path, const char* arg, ...) {
  char* argv[kMaxExecArgs];
  va_list ap;
  va_start(ap, arg);
  int n = collect_args(arg, ap, argv, kMaxExecArgs);
  char* const* envp = n < 0 ? nullptr : va_arg(ap, char* const*);
  va_end(ap);
  return n < 0 ? -1 : do_execve(path, argv, envp);
}

int fexecve(int fd, char* const argv[], char* const envp[]) {
  if (!readable_exec_args("", argv, envp)) return g_fexecve(fd, argv, envp);
  char shown[32];
  format_to(shown, sizeof shown, "fd %d", fd);
  return checkpointed_exec(shown, libckpt_active() ? classify_exec_target(fd) : ExecTarget::Checkpointable, envp,
                           [&](char* const* e) { return g_fexecve(fd, argv, e); });
}

int execveat(int dirfd, const char* path, char* const argv[], char* const envp[], int flags) {
  if (!readable_exec_args(path ? path : "", argv, envp)) {
    if (!g_execveat) {
      errno = ENOSYS;
      return -1;
    }
    return g_execveat(dirfd, path, argv, envp, flags);
  }
  ExecTarget target = ExecTarget::Checkpointable;
  if (libckpt_active())
    target = (flags & AT_EMPTY_PATH) && path && !*path ? classify_exec_target(dirfd) : classify_exec_path(dirfd, path);
  return checkpointed_exec(path && *path ? path : "(fd)", target, envp,
                           [&](char* const* e) {
                             if (!g_execveat) {
                               errno = ENOSYS;
                               return -1;
                             }
                             return g_execveat(dirfd, path, argv, e, flags);
                           });
}

}  // extern "C"
