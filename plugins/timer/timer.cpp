// Interval timers (setitimer, alarm). The kernel's timers belong to the old
// process; at restart they are armed again with the time that was left.
#include <sys/syscall.h>
#include <sys/time.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"

namespace {

struct SavedTimers {
  struct itimerval timers[3];  // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF
};
SavedTimers g_saved;

void timer_event(ckpt_event_t event, void*) {
  if (event == CKPT_EVENT_PRE_CHECKPOINT) {
    for (int which = 0; which < 3; ++which)
      ckpt::raw_syscall(SYS_getitimer, which, reinterpret_cast<long>(&g_saved.timers[which]));
    ckpt_save_section("timer", &g_saved, sizeof g_saved);
  }
  if (event == CKPT_EVENT_RESTART) {
    for (int which = 0; which < 3; ++which) {
      const struct itimerval& t = g_saved.timers[which];
      if (t.it_value.tv_sec || t.it_value.tv_usec)
        ckpt::raw_syscall(SYS_setitimer, which, reinterpret_cast<long>(&t), 0);
    }
  }
}

const ckpt_plugin g_plugin = {"timer", timer_event};

__attribute__((constructor(200))) void register_timer_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
