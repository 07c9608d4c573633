// Between the parts of the timer kind's POSIX timers: the saving and
// restoring of every timer (posix_timers.cpp), the SIGEV_THREAD timers'
// helper thread (thread_timers.cpp) and CPU-time clock ids (cpu_clocks.cpp).
#pragma once

#include <time.h>

#include "ckpt/plugin.h"

namespace ckpt::timer {

// The clock id to give the kernel for the application's `clock`: CPU-time
// clocks name processes and threads by their kernel ids, not the virtual ones
// the application's ids hold (cpu_clocks.cpp), and
// CLOCK_THREAD_CPUTIME_ID names the calling thread (the kernel would record
// only "the caller", which a checkpoint cannot tell).
clockid_t kernel_clock(clockid_t clock);

// The helper thread is restored as an ordinary thread of the process, under
// a new kernel tid: it is known by its virtual tid across the restart.
void thread_timers_before_checkpoint();
void thread_timers_after_restart(const ckpt_restart_info* info);

}  // namespace ckpt::timer
