// posix_spawn, posix_spawnp, system, popen and pclose on our fork and exec.
//
// glibc implements all of them with an internal clone(CLONE_VM|CLONE_VFORK)
// and an internal execve that never pass through our wrappers, so the child
// would run outside the computation. Here the child is a checkpointed fork
// (registered before we go on) that applies the spawn attributes and file
// actions itself and execs through our exec wrappers; an error before the
// exec comes back through a close-on-exec pipe, as posix_spawn reports it.
//
// The file actions are read from glibc's private layout (posix/spawn_int.h
// of glibc 2.34-2.38: close, dup2, open, chdir, fchdir, closefrom,
// tcsetpgrp); the layout is checked once at run time against actions built
// with the public API, and if it ever differs we leave spawning to glibc
// (its children then run outside the checkpoint; the log says so).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "core.h"
#include "log.h"

extern char** environ;

namespace ckpt {
namespace {

// glibc's struct __spawn_action (posix/spawn_int.h, glibc 2.34-2.38).
struct GlibcSpawnAction {
  enum Tag : int { kClose, kDup2, kOpen, kChdir, kFchdir, kClosefrom, kTcsetpgrp } tag;
  union {
    struct {
      int fd;
    } close_action;
    struct {
      int fd;
      int newfd;
    } dup2_action;
    struct {
      int fd;
      char* path;
      int oflag;
      mode_t mode;
    } open_action;
    struct {
      char* path;
    } chdir_action;
    struct {
      int fd;
    } fchdir_action;
    struct {
      int from;
    } closefrom_action;
    struct {
      int fd;
    } setpgrp_action;
  } action;
};
static_assert(sizeof(GlibcSpawnAction) == 32, "glibc's struct __spawn_action is 32 bytes on x86-64");
static_assert(sizeof(posix_spawn_file_actions_t) == 80, "glibc 2.36's posix_spawn_file_actions_t");
static_assert(offsetof(posix_spawn_file_actions_t, __used) == 4 &&
                  offsetof(posix_spawn_file_actions_t, __actions) == 8,
              "glibc 2.36's posix_spawn_file_actions_t");
static_assert(sizeof(posix_spawnattr_t) == 336, "glibc 2.36's posix_spawnattr_t");

const GlibcSpawnAction* actions_of(const posix_spawn_file_actions_t* fa, int* count) {
  *count = fa ? fa->__used : 0;
  return fa ? reinterpret_cast<const GlibcSpawnAction*>(fa->__actions) : nullptr;
}

// Builds one action of each kind with the public API and reads them back.
bool check_layout() {
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) return false;
  char path[] = "/ckpt-layout-check";
  bool ok = posix_spawn_file_actions_addclose(&fa, 7) == 0 && posix_spawn_file_actions_adddup2(&fa, 8, 9) == 0 &&
            posix_spawn_file_actions_addopen(&fa, 10, path, O_RDONLY | O_CLOEXEC, 0640) == 0 &&
            posix_spawn_file_actions_addchdir_np(&fa, path) == 0 &&
            posix_spawn_file_actions_addfchdir_np(&fa, 11) == 0 &&
            posix_spawn_file_actions_addclosefrom_np(&fa, 12) == 0 &&
            posix_spawn_file_actions_addtcsetpgrp_np(&fa, 13) == 0;
  int n = 0;
  const GlibcSpawnAction* a = actions_of(&fa, &n);
  using A = GlibcSpawnAction;
  ok = ok && n == 7 && a[0].tag == A::kClose && a[0].action.close_action.fd == 7 && a[1].tag == A::kDup2 &&
       a[1].action.dup2_action.fd == 8 && a[1].action.dup2_action.newfd == 9 && a[2].tag == A::kOpen &&
       a[2].action.open_action.fd == 10 && !strcmp(a[2].action.open_action.path, path) &&
       a[2].action.open_action.oflag == (O_RDONLY | O_CLOEXEC) && a[2].action.open_action.mode == 0640 &&
       a[3].tag == A::kChdir && !strcmp(a[3].action.chdir_action.path, path) && a[4].tag == A::kFchdir &&
       a[4].action.fchdir_action.fd == 11 && a[5].tag == A::kClosefrom && a[5].action.closefrom_action.from == 12 &&
       a[6].tag == A::kTcsetpgrp && a[6].action.setpgrp_action.fd == 13;
  posix_spawn_file_actions_destroy(&fa);
  return ok;
}

bool layout_known() {
  static const bool known = [] {
    bool ok = check_layout();
    if (!ok) CKPT_LOG(Error, "unknown posix_spawn_file_actions_t layout: spawned children run outside the checkpoint");
    return ok;
  }();
  return known;
}

using spawn_fn = int (*)(pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*,
                         char* const*, char* const*);
spawn_fn real_spawn(bool use_path) {
  static spawn_fn spawn = reinterpret_cast<spawn_fn>(dlsym(RTLD_NEXT, "posix_spawn"));
  static spawn_fn spawnp = reinterpret_cast<spawn_fn>(dlsym(RTLD_NEXT, "posix_spawnp"));
  return use_path ? spawnp : spawn;
}

// ---- the child's side: returns an errno value if it could not exec ----

// Our suspend signal stays ours until the exec (a checkpoint may still
// freeze this child); the new program installs its own handler.
void keep_suspend_signal(sigset_t* set) { sigdelset(set, g_config.suspend_signal); }

int apply_attributes(const posix_spawnattr_t* attr) {
  short flags = 0;
  posix_spawnattr_getflags(attr, &flags);
  if (flags & POSIX_SPAWN_SETSIGDEF) {
    sigset_t def;
    posix_spawnattr_getsigdefault(attr, &def);
    keep_suspend_signal(&def);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
      if (sigismember(&def, sig) == 1 && sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, nullptr);
  }
  struct sched_param param;
  posix_spawnattr_getschedparam(attr, &param);
  if (flags & POSIX_SPAWN_SETSCHEDULER) {
    int policy;
    posix_spawnattr_getschedpolicy(attr, &policy);
    if (sched_setscheduler(0, policy, &param) == -1) return errno;
  } else if ((flags & POSIX_SPAWN_SETSCHEDPARAM) && sched_setparam(0, &param) == -1) {
    return errno;
  }
  if ((flags & POSIX_SPAWN_SETSID) && setsid() < 0) return errno;
  if (flags & POSIX_SPAWN_SETPGROUP) {
    pid_t pgrp;
    posix_spawnattr_getpgroup(attr, &pgrp);
    if (setpgid(0, pgrp) != 0) return errno;
  }
  if ((flags & POSIX_SPAWN_RESETIDS) && (setgid(getgid()) != 0 || setuid(getuid()) != 0)) return errno;
  return 0;
}

bool valid_fd(int fd) { return fd >= 0 && fd < static_cast<int>(sysconf(_SC_OPEN_MAX)); }

// As glibc's child does it: through our close/dup2 wrappers, so libckpt's
// own descriptors (and the error pipe) survive closefrom and dup2.
int apply_file_actions(const posix_spawn_file_actions_t* fa) {
  int n = 0;
  const GlibcSpawnAction* a = actions_of(fa, &n);
  for (int i = 0; i < n; ++i) {
    const auto& act = a[i].action;
    switch (a[i].tag) {
      case GlibcSpawnAction::kClose:
        // Errors only for descriptors out of range.
        if (close(act.close_action.fd) != 0 && !valid_fd(act.close_action.fd)) return errno;
        break;
      case GlibcSpawnAction::kDup2:
        if (act.dup2_action.fd == act.dup2_action.newfd) {
          // POSIX 2024: dup2 onto itself clears close-on-exec.
          int fl = fcntl(act.dup2_action.fd, F_GETFD);
          if (fl < 0 || fcntl(act.dup2_action.fd, F_SETFD, fl & ~FD_CLOEXEC) != 0) return errno;
        } else if (dup2(act.dup2_action.fd, act.dup2_action.newfd) != act.dup2_action.newfd) {
          return errno;
        }
        break;
      case GlibcSpawnAction::kOpen: {
        const auto& o = act.open_action;
        close(o.fd);
        int fd = open(o.path, o.oflag, o.mode);
        if (fd < 0) return errno;
        if (fd != o.fd) {
          if (dup2(fd, o.fd) != o.fd) return errno;
          close(fd);
        }
        break;
      }
      case GlibcSpawnAction::kChdir:
        if (chdir(act.chdir_action.path) != 0) return errno;
        break;
      case GlibcSpawnAction::kFchdir:
        if (fchdir(act.fchdir_action.fd) != 0) return errno;
        break;
      case GlibcSpawnAction::kClosefrom:
        closefrom(act.closefrom_action.from);
        break;
      case GlibcSpawnAction::kTcsetpgrp:
        if (tcsetpgrp(act.setpgrp_action.fd, getpgid(0)) != 0) return errno;
        break;
      default:
        return EINVAL;
    }
  }
  return 0;
}

int spawn_child(const char* file, const posix_spawn_file_actions_t* fa, const posix_spawnattr_t* attr,
                char* const argv[], char* const envp[], bool use_path) {
  int err = attr ? apply_attributes(attr) : 0;
  if (err == 0 && fa) err = apply_file_actions(fa);
  if (err) return err;
  short flags = 0;
  if (attr) posix_spawnattr_getflags(attr, &flags);
  if (flags & POSIX_SPAWN_SETSIGMASK) {
    sigset_t mask;
    posix_spawnattr_getsigmask(attr, &mask);
    keep_suspend_signal(&mask);
    sigprocmask(SIG_SETMASK, &mask, nullptr);
  }
  exec_program(file, argv, envp ? envp : environ, use_path);
  return errno;
}

// ---- the parent's side ----

int checkpointed_spawn(pid_t* pid_out, const char* file, const posix_spawn_file_actions_t* fa,
                       const posix_spawnattr_t* attr, char* const argv[], char* const envp[], bool use_path) {
  if (!libckpt_active() || !checkpoint_thread_running() || !layout_known())
    return real_spawn(use_path)(pid_out, file, fa, attr, argv, envp);
  int fds[2];
  if (child_pipe(fds) != 0) return errno;
  pid_t pid = checkpointed_fork(fds[1]);
  if (pid == 0) {
    child_done_with_pipe(fds[0]);
    int err = spawn_child(file, fa, attr, argv, envp, use_path);
    while (write(fds[1], &err, sizeof err) < 0 && errno == EINTR) {
    }
    sys(SYS_exit_group, 127);
  }
  int fork_err = errno;
  parent_done_with_child_pipe(fds[1]);
  if (pid < 0) {
    close_own_fd(fds[0]);
    return fork_err;
  }
  int child_err = 0;
  ssize_t n = read_own_pipe(fds[0], &child_err, sizeof child_err);
  if (n == kPipeGoneAfterRestart) {
    // Restarted while the child was on its way to exec: it goes on by itself.
    if (pid_out) *pid_out = pid;
    return 0;
  }
  close_own_fd(fds[0]);
  if (n == sizeof child_err) {
    // It never ran the program: reap it, as posix_spawn does.
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return child_err;
  }
  if (pid_out) *pid_out = pid;
  return 0;
}

int wait_status(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

// ---- system(): SIGINT and SIGQUIT ignored, SIGCHLD blocked meanwhile ----

pthread_mutex_t g_system_lock = PTHREAD_MUTEX_INITIALIZER;
int g_system_users = 0;
struct sigaction g_saved_intr, g_saved_quit;

int run_system(const char* command) {
  struct sigaction ignore;
  memset(&ignore, 0, sizeof ignore);
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  pthread_mutex_lock(&g_system_lock);
  if (g_system_users++ == 0) {
    sigaction(SIGINT, &ignore, &g_saved_intr);
    sigaction(SIGQUIT, &ignore, &g_saved_quit);
  }
  pthread_mutex_unlock(&g_system_lock);
  sigset_t chld, old_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old_mask);

  // The command gets the caller's signal mask and default SIGINT/SIGQUIT
  // (unless the caller ignored them already).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  if (g_saved_intr.sa_handler != SIG_IGN) sigaddset(&defaults, SIGINT);
  if (g_saved_quit.sa_handler != SIG_IGN) sigaddset(&defaults, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &old_mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char sh[] = "sh", dash_c[] = "-c";
  char* argv[] = {sh, dash_c, const_cast<char*>(command), nullptr};
  pid_t pid;
  int status;
  if (checkpointed_spawn(&pid, "/bin/sh", nullptr, &attr, argv, environ, false) == 0) status = wait_status(pid);
  else status = W_EXITCODE(127, 0);
  posix_spawnattr_destroy(&attr);

  pthread_mutex_lock(&g_system_lock);
  if (--g_system_users == 0) {
    sigaction(SIGINT, &g_saved_intr, nullptr);
    sigaction(SIGQUIT, &g_saved_quit, nullptr);
  }
  pthread_mutex_unlock(&g_system_lock);
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  return status;
}

// ---- popen()/pclose(): the streams we opened and their children ----

struct PopenStream {
  FILE* fp;
  int fd;
  pid_t pid;
  PopenStream* next;
};
pthread_mutex_t g_popen_lock = PTHREAD_MUTEX_INITIALIZER;
PopenStream* g_popen_streams = nullptr;

FILE* run_popen(const char* command, const char* mode) {
  bool reading = mode[0] == 'r';
  if ((mode[0] != 'r' && mode[0] != 'w')) {
    errno = EINVAL;
    return nullptr;
  }
  bool cloexec = strchr(mode, 'e') != nullptr;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return nullptr;
  int parent_end = reading ? p[0] : p[1], child_end = reading ? p[1] : p[0];
  int child_target = reading ? STDOUT_FILENO : STDIN_FILENO;
  auto* stream = static_cast<PopenStream*>(malloc(sizeof(PopenStream)));
  posix_spawn_file_actions_t fa;
  if (!stream || posix_spawn_file_actions_init(&fa) != 0) {
    free(stream);
    close(p[0]);
    close(p[1]);
    errno = ENOMEM;
    return nullptr;
  }
  // The child's end becomes its stdin or stdout (inheritable); the streams
  // of earlier popen() calls are closed in the child (POSIX).
  posix_spawn_file_actions_adddup2(&fa, child_end, child_target);
  pthread_mutex_lock(&g_popen_lock);
  for (PopenStream* s = g_popen_streams; s; s = s->next)
    if (s->fd != child_target) posix_spawn_file_actions_addclose(&fa, s->fd);
  char sh[] = "sh", dash_c[] = "-c";
  char* argv[] = {sh, dash_c, const_cast<char*>(command), nullptr};
  pid_t pid;
  int err = checkpointed_spawn(&pid, "/bin/sh", &fa, nullptr, argv, environ, false);
  posix_spawn_file_actions_destroy(&fa);
  close(child_end);
  FILE* fp = nullptr;
  if (err == 0) {
    if (!cloexec) fcntl(parent_end, F_SETFD, 0);
    fp = fdopen(parent_end, reading ? "r" : "w");
    if (fp) {
      *stream = {fp, parent_end, pid, g_popen_streams};
      g_popen_streams = stream;
    } else {
      err = errno;
    }
  }
  pthread_mutex_unlock(&g_popen_lock);
  if (!fp) {
    if (err == 0) err = ENOMEM;
    close(parent_end);
    free(stream);
    errno = err;
  }
  return fp;
}

// Unlinks fp's record; nullptr if fp is not one of ours.
PopenStream* take_stream(FILE* fp) {
  pthread_mutex_lock(&g_popen_lock);
  PopenStream* found = nullptr;
  for (PopenStream** s = &g_popen_streams; *s; s = &(*s)->next)
    if ((*s)->fp == fp) {
      found = *s;
      *s = found->next;
      break;
    }
  pthread_mutex_unlock(&g_popen_lock);
  return found;
}

}  // namespace
}  // namespace ckpt

using namespace ckpt;

extern "C" {

int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa, const posix_spawnattr_t* attr,
                char* const argv[], char* const envp[]) {
  char mapped[PATH_MAX];  // the program under the path map (plugins/path)
  return checkpointed_spawn(pid, ckpt_path_to_real(path, mapped, sizeof mapped), fa, attr, argv, envp, false);
}

int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* fa, const posix_spawnattr_t* attr,
                 char* const argv[], char* const envp[]) {
  return checkpointed_spawn(pid, file, fa, attr, argv, envp, true);
}

int system(const char* command) {
  static auto real = reinterpret_cast<int (*)(const char*)>(dlsym(RTLD_NEXT, "system"));
  if (!libckpt_active() || !checkpoint_thread_running() || !layout_known()) return real(command);
  if (!command) return access("/bin/sh", X_OK) == 0;
  return run_system(command);
}

FILE* popen(const char* command, const char* mode) {
  static auto real = reinterpret_cast<FILE* (*)(const char*, const char*)>(dlsym(RTLD_NEXT, "popen"));
  if (!libckpt_active() || !checkpoint_thread_running() || !layout_known()) return real(command, mode);
  return run_popen(command, mode);
}

int pclose(FILE* fp) {
  static auto real = reinterpret_cast<int (*)(FILE*)>(dlsym(RTLD_NEXT, "pclose"));
  PopenStream* s = take_stream(fp);
  if (!s) return real(fp);  // glibc's own popen stream
  pid_t pid = s->pid;
  free(s);
  fclose(fp);
  return wait_status(pid);
}

}  // extern "C"
