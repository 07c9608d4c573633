// Pid virtualization (GUIDE §3.5). The application only ever sees the pids
// and tids it saw at launch. A table maps virtual ids to the kernel's; it is
// empty until the first restart (or when restart got the original ids back),
// so before that every wrapper is a plain system call.
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"

namespace {

struct PidPair {
  pid_t virt;
  pid_t real;
};

constexpr int kMaxPids = 4096;
PidPair g_table[kMaxPids];
int g_count = 0;

pid_t to_virtual(pid_t real) {
  for (int i = 0; i < g_count; ++i)
    if (g_table[i].real == real) return g_table[i].virt;
  return real;
}

pid_t to_real(pid_t virt) {
  for (int i = 0; i < g_count; ++i)
    if (g_table[i].virt == virt) return g_table[i].real;
  return virt;
}

// kill() and friends take 0, -1 and -pgid as well as pids.
pid_t to_real_target(pid_t target) {
  if (target > 0) return to_real(target);
  if (target < -1) return -to_real(-target);
  return target;
}

void on_restart(const ckpt_restart_info* info) {
  // Threads of this process now run under new kernel ids; ids equal to the
  // virtual ones need no entry.
  g_count = 0;
  for (int i = 0; i < info->thread_count && g_count < kMaxPids; ++i)
    if (info->threads[i].virt_tid != info->threads[i].real_tid)
      g_table[g_count++] = {info->threads[i].virt_tid, info->threads[i].real_tid};
}

void pid_event(ckpt_event_t event, void* data) {
  if (event == CKPT_EVENT_RESTART) on_restart(static_cast<const ckpt_restart_info*>(data));
  if (event == CKPT_EVENT_PRE_CHECKPOINT) ckpt_save_section("pid", g_table, g_count * sizeof(PidPair));
}

const ckpt_plugin g_plugin = {"pid", pid_event};

__attribute__((constructor(200))) void register_pid_plugin() { ckpt_register_plugin(&g_plugin); }

long virtualized_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
  switch (nr) {
    case SYS_getpid:
      return to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_getpid)));
    case SYS_gettid:
      return to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_gettid)));
    case SYS_getppid:
      return to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_getppid)));
    case SYS_kill:
      return ckpt::sys(SYS_kill, to_real_target(static_cast<pid_t>(a1)), a2);
    case SYS_tkill:
      return ckpt::sys(SYS_tkill, to_real(static_cast<pid_t>(a1)), a2);
    case SYS_tgkill:
      return ckpt::sys(SYS_tgkill, to_real(static_cast<pid_t>(a1)), to_real(static_cast<pid_t>(a2)), a3);
    default:
      return ckpt::sys(nr, a1, a2, a3, a4, a5, a6);
  }
}

}  // namespace

extern "C" {

pid_t ckpt_virtual_pid(pid_t real) { return to_virtual(real); }
pid_t ckpt_real_pid(pid_t virt) { return to_real(virt); }

pid_t getpid(void) { return to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_getpid))); }
pid_t gettid(void) { return to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_gettid))); }
pid_t getppid(void) { return to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_getppid))); }

int kill(pid_t pid, int sig) { return static_cast<int>(ckpt::sys(SYS_kill, to_real_target(pid), sig)); }

int tgkill(pid_t tgid, pid_t tid, int sig) {
  return static_cast<int>(ckpt::sys(SYS_tgkill, to_real(tgid), to_real(tid), sig));
}

int sigqueue(pid_t pid, int sig, const union sigval value) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value = value;
  return static_cast<int>(ckpt::sys(SYS_rt_sigqueueinfo, to_real(pid), sig, &info));
}

// syscall(2) itself, for programs that ask the kernel for ids directly.
long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  return virtualized_syscall(nr, a1, a2, a3, a4, a5, a6);
}

}  // extern "C"
