// Section "pid" (tree_sections.h): this process's place in the tree, written
// at DRAIN, when every process of the computation is frozen, so parents,
// groups and zombies cannot change underneath. Runs on the checkpoint thread
// with the application's threads frozen: raw system calls and fixed buffers
// only.
#include "pid_section.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "tree_sections.h"
#include "virtual_ids.h"

namespace ckpt::pid {
namespace {

image::PidSection g_section;

// State and process group of a process, from /proc/<pid>/stat.
struct ProcStat {
  char state;
  pid_t ppid;
  pid_t pgrp;
};

long parse_long(const char*& p) {
  while (*p == ' ') ++p;
  bool negative = *p == '-';
  if (negative) ++p;
  long v = 0;
  for (; *p >= '0' && *p <= '9'; ++p) v = v * 10 + (*p - '0');
  return negative ? -v : v;
}

bool read_stat(pid_t pid, ProcStat& out) {
  char path[32] = "/proc/";
  char digits[12];
  int n = 0;
  for (unsigned v = static_cast<unsigned>(pid); v || !n; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  char* p = path + strlen(path);
  while (n) *p++ = digits[--n];
  strcpy(p, "/stat");
  int fd = static_cast<int>(ckpt::raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC));
  if (fd < 0) return false;
  char buf[1024];
  long len = ckpt::raw_syscall(SYS_read, fd, reinterpret_cast<long>(buf), sizeof buf - 1);
  ckpt::raw_syscall(SYS_close, fd);
  if (len <= 0) return false;
  buf[len] = '\0';
  const char* q = strrchr(buf, ')');  // the command name may hold ')' and spaces
  if (!q || q[1] != ' ') return false;
  q += 2;
  out.state = *q++;
  out.ppid = static_cast<pid_t>(parse_long(q));
  out.pgrp = static_cast<pid_t>(parse_long(q));
  return true;
}

// As waitpid() would report it.
int32_t wait_status(const siginfo_t& si) {
  switch (si.si_code) {
    case CLD_EXITED:
      return (si.si_status & 0xff) << 8;
    case CLD_DUMPED:
      return (si.si_status & 0x7f) | 0x80;
    default:
      return si.si_status & 0x7f;
  }
}

// Our children that have exited but are not reaped. Every child of a member
// is in the table (the fork wrappers put it there); the kernel's parent link
// confirms it is ours.
void collect_zombies(pid_t self_vpid, pid_t self_real) {
  table().for_each([&](const PidEntry& e) {
    if (e.vppid != self_vpid || (e.flags & kPidGroupOnly)) return true;
    ProcStat st;
    if (!read_stat(e.real, st) || st.ppid != self_real || st.state != 'Z') return true;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    long rc = ckpt::raw_syscall(SYS_waitid, P_PID, e.real, reinterpret_cast<long>(&si),
                                WEXITED | WNOWAIT | WNOHANG | __WALL, 0);
    if (rc != 0 || si.si_pid != e.real) return true;
    if (g_section.zombie_count >= image::kMaxZombies) return false;
    image::ZombieRecord& z = g_section.zombies[g_section.zombie_count++];
    z.vpid = e.vpid;
    z.wait_status = wait_status(si);
    z.vpgid = to_virtual_group(st.pgrp);
    return true;
  });
}

}  // namespace

void save_pid_section() {
  memset(&g_section, 0, sizeof g_section);
  g_section.version = image::kPidSectionVersion;
  pid_t real = self_real();
  g_section.real_pid = real;
  g_section.vpid = self_virtual();
  g_section.vppid = to_virtual(static_cast<pid_t>(ckpt::raw_syscall(SYS_getppid)));
  g_section.vpgid = to_virtual_group(static_cast<pid_t>(ckpt::raw_syscall(SYS_getpgid, 0)));
  g_section.vsid = to_virtual_group(static_cast<pid_t>(ckpt::raw_syscall(SYS_getsid, 0)));
  const char* path = table_path();
  if (strlen(path) < sizeof g_section.pidtable_path) strcpy(g_section.pidtable_path, path);
  collect_zombies(g_section.vpid, real);
  ckpt_save_section(image::kPidSection, &g_section, sizeof g_section);
}

}  // namespace ckpt::pid
