#include "virtual_ids.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "image_format.h"
#include "tree_sections.h"
#include "ckpt/environment.h"

namespace ckpt::pid {
namespace {

using image::kMaxThreads;
constexpr size_t kPathMax = sizeof(image::PidSection::pidtable_path);

struct ThreadIds {
  pid_t virt;
  pid_t real;
};

PidTable g_table;
char g_path[kPathMax];
pid_t g_self_virtual = 0;
pid_t g_self_real = 0;

// Restored threads whose kernel tid differs from the one the application knows.
ThreadIds g_threads[kMaxThreads];
int g_thread_count = 0;

pid_t raw_getpid() { return static_cast<pid_t>(ckpt::raw_syscall(SYS_getpid)); }
pid_t raw_getppid() { return static_cast<pid_t>(ckpt::raw_syscall(SYS_getppid)); }

bool thread_virtual(pid_t real, pid_t& out) {
  for (int i = 0; i < g_thread_count; ++i)
    if (g_threads[i].real == real) return out = g_threads[i].virt, true;
  return false;
}

bool thread_real(pid_t virt, pid_t& out) {
  for (int i = 0; i < g_thread_count; ++i)
    if (g_threads[i].virt == virt) return out = g_threads[i].real, true;
  return false;
}

// In the first of pid_table_dirs() that works; the name is unique to this
// user, process and moment.
bool create_table() {
  const char* dirs[3];
  const int dir_count = pid_table_dirs(dirs);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  for (int i = 0; i < dir_count; ++i) {
    const char* dir = dirs[i];
    pid_table_name(g_path, sizeof g_path, dir, static_cast<unsigned>(getuid()), static_cast<int>(g_self_real),
                   now.tv_sec, now.tv_nsec);
    if (PidTable::create(g_path, g_table) == 0) {
      sweep_dead_tables(dir, g_path);
      return true;
    }
  }
  g_path[0] = '\0';
  return false;
}

// The path of the file mapped at `addr`, from /proc/self/maps, read with raw
// calls into a fixed buffer (threads may be frozen holding malloc's lock).
// False unless a file that still exists is mapped there (not, for example,
// a copy restored as shared anonymous memory, "/dev/zero (deleted)").
bool mapped_file_path(const void* addr, char* out, size_t out_len) {
  int fd = static_cast<int>(ckpt::raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/proc/self/maps"),
                                              O_RDONLY | O_CLOEXEC));
  if (fd < 0) return false;
  static char buf[16384];
  size_t have = 0;
  bool found = false;
  for (;;) {
    long n = ckpt::raw_syscall(SYS_read, fd, reinterpret_cast<long>(buf + have), sizeof buf - 1 - have);
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    buf[have] = '\0';
    char* line = buf;
    char* nl;
    while ((nl = strchr(line, '\n'))) {
      *nl = '\0';
      unsigned long start = strtoul(line, nullptr, 16);
      if (start == reinterpret_cast<unsigned long>(addr)) {
        const char* path = strchr(line, '/');
        const char* deleted = path ? strstr(path, " (deleted)") : nullptr;
        if (path && !deleted && strlen(path) < out_len) {
          strcpy(out, path);
          found = true;
        }
        break;
      }
      line = nl + 1;
    }
    if (found) break;
    have = strlen(line);
    memmove(buf, line, have);
  }
  ckpt::raw_syscall(SYS_close, fd);
  return found;
}

// Entries whose process (or group) no longer exists: processes that exited
// without a member of the computation reaping them.
void purge_dead() {
  g_table.for_each([](const PidEntry& e) {
    pid_t target = (e.flags & kPidGroupOnly) ? -e.real : e.real;
    if (ckpt::raw_syscall(SYS_kill, target, 0) == -ESRCH) g_table.remove(e.vpid);
    return true;
  });
}

}  // namespace

bool active() { return g_table.is_open(); }
PidTable& table() { return g_table; }
const char* table_path() { return g_path; }

pid_t self_virtual() {
  pid_t real = raw_getpid();
  // A process created behind our back (a raw clone) shares our memory but not our pid.
  return real == g_self_real ? g_self_virtual : to_virtual(real);
}

pid_t self_real() { return raw_getpid(); }

pid_t to_virtual(pid_t real) {
  pid_t v;
  if (real <= 0) return real;
  if (thread_virtual(real, v)) return v;
  PidEntry e;
  return g_table.find_real(real, &e) ? e.vpid : real;
}

pid_t to_real(pid_t virt) {
  pid_t r;
  if (virt <= 0) return virt;
  if (thread_real(virt, r)) return r;
  PidEntry e;
  return g_table.find_virtual(virt, &e) ? e.real : virt;
}

pid_t to_virtual_group(pid_t real) {
  if (real <= 0) return real;
  PidEntry e;
  return g_table.find_real_group(real, &e) ? e.vpid : real;
}

pid_t to_real_group(pid_t virt) {
  if (virt <= 0) return virt;
  PidEntry e;
  return g_table.find_virtual(virt, &e) ? e.real : virt;
}

pid_t to_real_target(pid_t target) {
  if (target > 0) return to_real(target);
  if (target < -1) return -to_real_group(-target);
  return target;
}

void start() {
  g_self_real = g_self_virtual = raw_getpid();
  const char* inherited = getenv(CKPT_ENV_PIDTABLE);
  if (inherited && *inherited && strlen(inherited) < sizeof g_path && PidTable::open(inherited, g_table) == 0) {
    strcpy(g_path, inherited);
    PidEntry e;
    if (g_table.find_real(g_self_real, &e)) g_self_virtual = e.vpid;  // exec'ed: same process, maybe restarted
    else record_child(g_self_real, to_virtual(raw_getppid()));
    return;
  }
  if (!create_table()) return;  // no table: ids stay the kernel's
  setenv(CKPT_ENV_PIDTABLE, g_path, 1);
  g_table.insert(g_self_real, g_self_real, raw_getppid(), 0);
}

void become_forked_child() {
  pid_t parent = g_self_virtual;
  g_thread_count = 0;  // only the forking thread exists; its tid is our pid
  g_self_real = g_self_virtual = raw_getpid();
  record_child(g_self_real, parent);
}

void record_child(pid_t real, pid_t parent_vpid) {
  PidEntry e;
  if (!g_table.find_virtual(real, &e)) {
    g_table.insert(real, real, parent_vpid, 0);
    return;
  }
  // Another process's virtual pid: the fork wrapper discards such a child.
  if (e.real != real) return;
  // The kernel reuses a pid only after its process is gone: an entry with
  // this kernel pid but another parent is stale.
  if (e.vppid != parent_vpid || e.flags) g_table.update({real, real, parent_vpid, 0});
}

void forget_reaped(pid_t real) {
  PidEntry e;
  if (g_table.find_real(real, &e)) g_table.remove(e.vpid);
}

void drop_stale_group(pid_t real) {
  PidEntry e;
  if (g_table.find_real_group(real, &e) && (e.flags & kPidGroupOnly) &&
      ckpt::raw_syscall(SYS_kill, -real, 0) == -ESRCH)
    g_table.remove(e.vpid);
}

void adopt_restored(const ckpt_restart_info* info) {
  g_thread_count = 0;
  for (int i = 0; i < info->thread_count && g_thread_count < kMaxThreads; ++i)
    if (info->threads[i].virt_tid != info->threads[i].real_tid)
      g_threads[g_thread_count++] = {info->threads[i].virt_tid, info->threads[i].real_tid};
  g_self_real = raw_getpid();
  void* where = g_table.address();
  if (!where || !PidTable::attach(where, g_table)) return;
  mapped_file_path(where, g_path, sizeof g_path);
  // ckpt_restart records every restored process; if it did not (the table
  // came back as the old file), correct our own entry at least.
  PidEntry e;
  if (g_table.find_virtual(g_self_virtual, &e) && e.real != g_self_real)
    g_table.update({g_self_virtual, g_self_real, e.vppid, e.flags});
}

void export_table_path() {
  if (!active() || !g_path[0]) return;
  const char* current = getenv(CKPT_ENV_PIDTABLE);
  if (!current || strcmp(current, g_path) != 0) setenv(CKPT_ENV_PIDTABLE, g_path, 1);
}

void leave_at_exit() {
  if (!active()) return;
  PidEntry parent;
  if (g_table.find_real(raw_getppid(), &parent)) return;  // our parent reaps us and removes the entry
  g_table.remove(g_self_virtual);
  purge_dead();
  if (g_table.count() != 0) return;
  // Only the file we map, never whatever else the path names now.
  char mapped[kPathMax];
  if (mapped_file_path(g_table.address(), mapped, sizeof mapped) && strcmp(mapped, g_path) == 0) unlink(g_path);
}

}  // namespace ckpt::pid
