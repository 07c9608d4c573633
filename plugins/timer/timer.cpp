// Interval timers (setitimer, alarm). The kernel's timers belong to the old
// process; at restart they are armed again with the time that was left.
// Saved as section "timer" (libckpt/image/timer_section.h); decoded by
// timer_schema.cpp.
#include <sys/syscall.h>
#include <sys/time.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "timer_section.h"

namespace {

using ckpt::image::SavedItimer;

// Restored with the process's memory: restart reads it from here.
ckpt::image::TimerSection g_saved;

void timer_event(ckpt_event_t event, void*) {
  if (event == CKPT_EVENT_PRE_CHECKPOINT) {
    g_saved.version = ckpt::image::kTimerSectionVersion;
    for (int which = 0; which < 3; ++which) {
      struct itimerval t = {};
      ckpt::raw_syscall(SYS_getitimer, which, reinterpret_cast<long>(&t));
      g_saved.timers[which] = {t.it_interval.tv_sec, t.it_interval.tv_usec, t.it_value.tv_sec, t.it_value.tv_usec};
    }
    ckpt_save_section(ckpt::image::kTimerSection, &g_saved, sizeof g_saved);
  }
  if (event == CKPT_EVENT_RESTART) {
    for (int which = 0; which < 3; ++which) {
      const SavedItimer& s = g_saved.timers[which];
      if (!s.value_sec && !s.value_usec) continue;
      struct itimerval t = {{s.interval_sec, s.interval_usec}, {s.value_sec, s.value_usec}};
      ckpt::raw_syscall(SYS_setitimer, which, reinterpret_cast<long>(&t), 0);
    }
  }
}

const ckpt_plugin g_plugin = {"timer", timer_event};

__attribute__((constructor(200))) void register_timer_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
