// POSIX timers (timer_create). The kernel's timers belong to the old process;
// at restart each one is created again under the id it had, which is the
// timer_t the application holds (thread_timers.cpp makes that true of
// SIGEV_THREAD timers too), with its clock, its notification and the time it
// had left.
//
// What exists is read from the kernel at checkpoint, not from bookkeeping in
// wrappers: /proc/self/timers lists every timer (id, signal and value,
// notification and its target, clock) and timer_gettime gives the time left.
// The ids come back through prctl(PR_TIMER_CREATE_RESTORE_IDS) (Linux 6.15),
// with which timer_create takes the id it is asked for; ckpt_restart refuses
// an image with timers on a kernel without it (timer_restart.cpp).
//
// CPU-time clocks name a process or thread by its kernel id: timer_create
// translates the application's (virtual) ids, and gives CLOCK_THREAD_CPUTIME_ID
// its thread's id, which the kernel would not show; the timers are saved
// against virtual ids and created again against the new process's clocks.
//
// Saved as section "posix_timer" (posix_timer_section.h); decoded by
// timer_schema.cpp.
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "cpu_clock.h"
#include "posix_timer_section.h"
#include "posix_timers.h"

namespace ckpt::timer {
namespace {

// <linux/prctl.h> of the build machine may predate Linux 6.15.
constexpr int kPrTimerCreateRestoreIds = 77;
constexpr long kRestoreIdsOff = 0, kRestoreIdsOn = 1;
#ifndef SIGEV_THREAD_ID
constexpr int SIGEV_THREAD_ID = 4;
#endif

// Restored with the process's memory: restart reads it from here. Laid out
// as the section is, which is its first bytes.
struct Saved {
  PosixTimerSectionHeader header;
  SavedPosixTimer timers[kMaxPosixTimers];
} g_saved;
static_assert(offsetof(Saved, timers) == sizeof(PosixTimerSectionHeader));
PosixTimerSectionHeader& g_header = g_saved.header;
SavedPosixTimer (&g_timers)[kMaxPosixTimers] = g_saved.timers;

struct Failure {
  char text[256];
};

void fail(int32_t id, const char* why) {
  Failure f;
  MessageText(f.text, sizeof f.text).add("POSIX timer ").add(ShortText().dec(id).c_str()).add(" ").add(why);
  ckpt_fail_checkpoint(f.text);
}

// The value after `key` in one entry of /proc/self/timers, or null.
const char* field(const char* entry, const char* end, const char* key) {
  const size_t n = strlen(key);
  for (const char* line = entry; line < end;) {
    if (static_cast<size_t>(end - line) > n && memcmp(line, key, n) == 0) return line + n;
    const char* nl = static_cast<const char*>(memchr(line, '\n', static_cast<size_t>(end - line)));
    if (!nl) break;
    line = nl + 1;
  }
  return nullptr;
}

long parse_signed(const char*& p, int base) {
  bool negative = *p == '-';
  if (negative) ++p;
  long v = 0;
  for (;; ++p) {
    int d = *p >= '0' && *p <= '9' ? *p - '0' : base == 16 && *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
    if (d < 0) break;
    v = v * base + d;
  }
  return negative ? -v : v;
}

bool is_own_thread(pid_t tid) {
  return raw_syscall(SYS_tgkill, raw_syscall(SYS_getpid), tid, 0) == 0;
}

// One entry ("ID: ..." up to the next) into `t`; false (checkpoint failed) if
// it cannot be saved.
bool save_one(const char* entry, const char* end, SavedPosixTimer& t) {
  memset(&t, 0, sizeof t);
  const char* p = field(entry, end, "ID: ");
  if (!p) {
    ckpt_fail_checkpoint("/proc/self/timers has an entry without an ID, which ckpt cannot read");
    return false;
  }
  t.id = static_cast<int32_t>(parse_signed(p, 10));
  const char* sig = field(entry, end, "signal: ");
  const char* notify = field(entry, end, "notify: ");
  const char* clock = field(entry, end, "ClockID: ");
  if (!sig || !notify || !clock) {
    fail(t.id, "has an entry in /proc/self/timers that ckpt cannot read");
    return false;
  }
  t.signo = static_cast<int32_t>(parse_signed(sig, 10));
  if (*sig == '/') ++sig;
  t.value = static_cast<uint64_t>(parse_signed(sig, 16));
  // "signal/pid.N", "signal/tid.N" (SIGEV_THREAD_ID), "none/pid.N", "thread/pid.N"
  if (memcmp(notify, "none/", 5) == 0) t.notify = SIGEV_NONE;
  else if (memcmp(notify, "signal/", 7) == 0) t.notify = SIGEV_SIGNAL;
  else if (memcmp(notify, "thread/", 7) == 0) t.notify = SIGEV_THREAD;
  else {
    fail(t.id, "has a notification ckpt does not know");
    return false;
  }
  const char* slash = static_cast<const char*>(memchr(notify, '/', static_cast<size_t>(end - notify)));
  if (slash && memcmp(slash + 1, "tid.", 4) == 0) {
    const char* q = slash + 5;
    const pid_t tid = static_cast<pid_t>(parse_signed(q, 10));
    if (!is_own_thread(tid)) {
      fail(t.id, "signals a thread that has exited, which a restart cannot recreate");
      return false;
    }
    t.notify |= SIGEV_THREAD_ID;
    t.target_vtid = ckpt_virtual_pid(tid);
  }
  t.clock_id = static_cast<int32_t>(parse_signed(clock, 10));
  if (is_cpu_clock(t.clock_id)) {
    const pid_t owner = cpu_clock_pid(t.clock_id);
    const pid_t self = static_cast<pid_t>(raw_syscall(SYS_getpid));
    if (cpu_clock_per_thread(t.clock_id)) {
      if (owner == 0) {
        // Made by a raw system call on CLOCK_THREAD_CPUTIME_ID: the kernel
        // does not say which thread's time it counts.
        fail(t.id, "counts the CPU time of a thread the kernel does not name (CLOCK_THREAD_CPUTIME_ID not created through timer_create())");
        return false;
      }
      if (!is_own_thread(owner)) {
        fail(t.id, "counts the CPU time of a thread that has exited");
        return false;
      }
      t.cpu_owner = CpuClockOwner::Thread;
      t.owner_vpid = ckpt_virtual_pid(owner);
    } else {
      t.cpu_owner = CpuClockOwner::Process;
      if (owner == 0 || owner == self) {
        t.owner_vpid = ckpt_virtual_pid(self);
      } else {
        struct Find {
          pid_t real;
          pid_t virt;
        } find{owner, 0};
        ckpt_for_each_process(
            [](pid_t virt, pid_t real, void* arg) {
              auto* f = static_cast<Find*>(arg);
              if (real != f->real) return 0;
              f->virt = virt;
              return 1;
            },
            &find);
        if (find.virt == 0) {
          fail(t.id, "counts the CPU time of a process outside the computation");
          return false;
        }
        t.owner_vpid = find.virt;
      }
    }
  }
  struct itimerspec left = {};
  if (raw_syscall(SYS_timer_gettime, t.id, reinterpret_cast<long>(&left)) != 0) {
    fail(t.id, "is listed by the kernel but timer_gettime fails on it");
    return false;
  }
  t.value_sec = left.it_value.tv_sec;
  t.value_nsec = left.it_value.tv_nsec;
  t.interval_sec = left.it_interval.tv_sec;
  t.interval_nsec = left.it_interval.tv_nsec;
  const long overrun = raw_syscall(SYS_timer_getoverrun, t.id);
  t.overrun = overrun > 0 ? static_cast<int32_t>(overrun) : 0;
  return true;
}

// Without /proc/self/timers (a kernel built without CONFIG_CHECKPOINT_RESTORE)
// nothing lists the timers: a process that has none (none of the ids the
// kernel hands out first answers) still checkpoints.
bool has_timers_unlisted() {
  struct itimerspec left;
  for (uint32_t id = 0; id < kMaxPosixTimers; ++id)
    if (raw_syscall(SYS_timer_gettime, id, reinterpret_cast<long>(&left)) == 0) return true;
  return false;
}

void save_timers() {
  g_header = {kPosixTimerSectionVersion, 0};
  MappedBuffer text;
  long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/proc/self/timers"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (fd != -ENOENT || has_timers_unlisted())
      ckpt_fail_checkpoint("the process has POSIX timers and /proc/self/timers, which lists them, cannot be read");
    return;
  }
  for (;;) {
    char* into = text.grow_for(65536);
    if (!into) break;
    long n = raw_syscall(SYS_read, fd, reinterpret_cast<long>(into), 65536);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    text.commit(static_cast<size_t>(n));
  }
  raw_syscall(SYS_close, fd);
  const char* begin = text.data();
  const char* end = begin + text.size();
  bool ok = true;
  for (const char* entry = begin; ok && entry && entry < end;) {
    // Entries start with "ID: ".
    const char* next = entry + 1;
    while (next < end && !(next[-1] == '\n' && next + 4 <= end && memcmp(next, "ID: ", 4) == 0)) ++next;
    if (g_header.count == kMaxPosixTimers) {
      Failure f;
      MessageText(f.text, sizeof f.text)
          .add("more POSIX timers than ckpt can save (")
          .add(ShortText().dec(kMaxPosixTimers).c_str())
          .add(")");
      ckpt_fail_checkpoint(f.text);
      ok = false;
      break;
    }
    ok = save_one(entry, next, g_timers[g_header.count]);
    if (ok) ++g_header.count;
    entry = next;
  }
  text.release();
  if (!ok) return;
  ckpt_save_section(kPosixTimerSection, &g_saved, sizeof g_header + g_header.count * sizeof(SavedPosixTimer));
}

pid_t real_tid(const ckpt_restart_info* info, pid_t vtid) {
  for (int i = 0; i < info->thread_count; ++i)
    if (info->threads[i].virt_tid == vtid) return info->threads[i].real_tid;
  return 0;
}

// The clock to create `t` on in the restored process.
clockid_t restored_clock(const SavedPosixTimer& t, const ckpt_restart_info* info) {
  switch (t.cpu_owner) {
    case CpuClockOwner::None:
      return t.clock_id;
    case CpuClockOwner::Thread:
      return make_cpu_clock(real_tid(info, t.owner_vpid), true, t.clock_id);
    case CpuClockOwner::Process:
      return make_cpu_clock(t.owner_vpid == info->virt_pid ? 0 : ckpt_real_pid(t.owner_vpid), false, t.clock_id);
  }
  return t.clock_id;
}

void warn(int32_t id, const char* why, long error) {
  Failure f;
  MessageText(f.text, sizeof f.text)
      .add("restart: POSIX timer ")
      .add(ShortText().dec(id).c_str())
      .add(" ")
      .add(why)
      .add(": error ")
      .add(ShortText().dec(-error).c_str());
  ckpt_log_warning(f.text);
}

void restore_timers(const ckpt_restart_info* info) {
  if (g_header.count == 0) return;
  // ckpt_restart checked the kernel has it (timer_restart.cpp).
  long rc = raw_syscall(SYS_prctl, kPrTimerCreateRestoreIds, kRestoreIdsOn, 0, 0, 0);
  if (rc != 0) {
    warn(g_timers[0].id, "and the others cannot get their ids back (PR_TIMER_CREATE_RESTORE_IDS)", rc);
    return;
  }
  for (uint32_t i = 0; i < g_header.count; ++i) {
    const SavedPosixTimer& t = g_timers[i];
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = t.notify;
    sev.sigev_signo = t.signo;
    sev.sigev_value.sival_ptr = reinterpret_cast<void*>(t.value);
    if (t.notify & SIGEV_THREAD_ID) sev._sigev_un._tid = real_tid(info, t.target_vtid);
    int id = t.id;  // the id asked for, with PR_TIMER_CREATE_RESTORE_IDS on
    rc = raw_syscall(SYS_timer_create, restored_clock(t, info), reinterpret_cast<long>(&sev), reinterpret_cast<long>(&id));
    if (rc != 0) {
      warn(t.id, "could not be created again", rc);
      continue;
    }
    if (!t.value_sec && !t.value_nsec) continue;  // disarmed
    struct itimerspec left = {{t.interval_sec, t.interval_nsec}, {t.value_sec, t.value_nsec}};
    rc = raw_syscall(SYS_timer_settime, id, 0, reinterpret_cast<long>(&left), 0);
    if (rc != 0) warn(t.id, "could not be armed again", rc);
  }
  raw_syscall(SYS_prctl, kPrTimerCreateRestoreIds, kRestoreIdsOff, 0, 0, 0);
}

void posix_timer_event(ckpt_event_t event, void* data) {
  if (event == CKPT_EVENT_PRE_CHECKPOINT) {
    save_timers();
    thread_timers_before_checkpoint();
  }
  if (event == CKPT_EVENT_RESTART) {
    auto* info = static_cast<const ckpt_restart_info*>(data);
    thread_timers_after_restart(info);
    restore_timers(info);
  }
}

const ckpt_plugin g_plugin = {kPosixTimerSection, posix_timer_event};

__attribute__((constructor(200))) void register_posix_timer_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
}  // namespace ckpt::timer
