// Section "posix_timer" (plugins/timer/posix_timers.cpp): the POSIX timers
// (timer_create) of a process at checkpoint time, as the kernel lists them
// in /proc/self/timers, with the time left from timer_gettime. Restart needs
// no copy of it (the plugin's own comes back with the process's memory): it
// is there for ckpt_info (timer_schema.cpp) and for ckpt_restart's check that
// the kernel can give the timers their ids back.
#pragma once

#include <stdint.h>

namespace ckpt::timer {

inline constexpr char kPosixTimerSection[] = "posix_timer";
inline constexpr uint32_t kPosixTimerSectionVersion = 1;
inline constexpr uint32_t kMaxPosixTimers = 1024;

// Whose CPU time a CPU-time clock counts (clock ids below 0).
enum class CpuClockOwner : uint32_t {
  None = 0,     // not a CPU-time clock: clock_id is the clock
  Process = 1,  // the process owner_vpid (this one: CLOCK_PROCESS_CPUTIME_ID, clock_getcpuclockid)
  Thread = 2,   // the thread owner_vpid of this process (CLOCK_THREAD_CPUTIME_ID, pthread_getcpuclockid)
};

struct SavedPosixTimer {
  int32_t id;        // the kernel's timer id, which is also the timer_t the application holds
  int32_t clock_id;  // as the kernel has it; for a CPU-time clock, the kind bits (CPUCLOCK_PROF/VIRT/SCHED) count
  CpuClockOwner cpu_owner;
  int32_t owner_vpid;  // CPU-time clocks: the virtual pid or tid whose time it counts
  int32_t notify;      // SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD (as the kernel got it) or SIGEV_THREAD_ID
  int32_t signo;
  int32_t target_vtid;  // SIGEV_THREAD_ID: the virtual tid of the thread signalled
  int32_t overrun;      // timer_getoverrun at checkpoint (not given back: see README)
  uint64_t value;       // sigev_value (sival_ptr)
  // timer_gettime: the time left until the next expiry (0: disarmed) and the period (0: one-shot).
  int64_t value_sec, value_nsec;
  int64_t interval_sec, interval_nsec;
};

struct PosixTimerSectionHeader {
  uint32_t version;
  uint32_t count;  // SavedPosixTimer[count] follow
};

}  // namespace ckpt::timer
