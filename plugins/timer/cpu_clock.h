// The kernel's encoding of CPU-time clock ids (clock_getcpuclockid,
// pthread_getcpuclockid, and the kernel's own for CLOCK_PROCESS_CPUTIME_ID
// and CLOCK_THREAD_CPUTIME_ID): a negative id holding the pid or tid (0:
// the caller), whether it is a thread's, and which time it counts.
#pragma once

#include <sys/types.h>
#include <time.h>

namespace ckpt::timer {

inline constexpr clockid_t kPerThreadBit = 4;
inline constexpr clockid_t kWhichMask = 3;  // CPUCLOCK_PROF, CPUCLOCK_VIRT, CPUCLOCK_SCHED
inline constexpr clockid_t kCpuClockSched = 2;  // what CLOCK_*_CPUTIME_ID count

inline bool is_cpu_clock(clockid_t clock) { return clock < 0; }
inline pid_t cpu_clock_pid(clockid_t clock) { return static_cast<pid_t>(~(clock >> 3)); }
inline bool cpu_clock_per_thread(clockid_t clock) { return (clock & kPerThreadBit) != 0; }
inline clockid_t make_cpu_clock(pid_t pid, bool per_thread, clockid_t which) {
  return static_cast<clockid_t>((~static_cast<unsigned>(pid)) << 3) | (per_thread ? kPerThreadBit : 0) |
         (which & kWhichMask);
}

}  // namespace ckpt::timer
