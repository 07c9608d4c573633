// Section "timer" (plugins/timer): the interval timers (setitimer, alarm) at
// checkpoint time, for ckpt_info. Restart needs no copy of it: the plugin's
// own copy comes back with the process's memory.
#pragma once

#include <stdint.h>

namespace ckpt::image {

inline constexpr char kTimerSection[] = "timer";
inline constexpr uint32_t kTimerSectionVersion = 1;
inline constexpr uint32_t kTimerCount = 3;  // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF

// A struct itimerval: what is left until the timer fires next (0: disarmed),
// and its period (0: fires once).
struct SavedItimer {
  int64_t interval_sec, interval_usec;
  int64_t value_sec, value_usec;
};

struct TimerSection {
  uint32_t version;
  uint32_t reserved;
  SavedItimer timers[kTimerCount];  // indexed by ITIMER_*
};

}  // namespace ckpt::image
