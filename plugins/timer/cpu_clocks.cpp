// CPU-time clock ids that name a process or a thread (clock_getcpuclockid,
// pthread_getcpuclockid) hold a pid or tid, which a restart changes. The
// application's ids hold the virtual one, as every pid it sees does: these
// wrappers hand them out so, and clock_gettime, clock_getres and timer_create
// (thread_timers.cpp, through kernel_clock) give the kernel the real one.
// Without them an id taken before a restart would name nothing (or another
// process) after it.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "cpu_clock.h"
#include "posix_timers.h"

namespace ckpt::timer {

clockid_t kernel_clock(clockid_t clock) {
  if (clock == CLOCK_THREAD_CPUTIME_ID)
    return make_cpu_clock(static_cast<pid_t>(raw_syscall(SYS_gettid)), true, kCpuClockSched);
  if (!is_cpu_clock(clock) || cpu_clock_pid(clock) == 0) return clock;
  return make_cpu_clock(ckpt_real_pid(cpu_clock_pid(clock)), cpu_clock_per_thread(clock), clock);
}

}  // namespace ckpt::timer

namespace {

using gettime_fn = int (*)(clockid_t, struct timespec*);
using cpuclock_fn = int (*)(pid_t, clockid_t*);
using pthread_cpuclock_fn = int (*)(pthread_t, clockid_t*);

// Looked up before main: clock_gettime may be called where dlsym may not
// (the checkpoint thread, while the others are frozen). Calls that come
// earlier still go straight to the kernel.
gettime_fn g_gettime, g_getres;
cpuclock_fn g_getcpuclockid;
pthread_cpuclock_fn g_pthread_getcpuclockid;

__attribute__((constructor(101))) void find_clock_functions() {
  g_gettime = reinterpret_cast<gettime_fn>(dlsym(RTLD_NEXT, "clock_gettime"));
  g_getres = reinterpret_cast<gettime_fn>(dlsym(RTLD_NEXT, "clock_getres"));
  g_getcpuclockid = reinterpret_cast<cpuclock_fn>(dlsym(RTLD_NEXT, "clock_getcpuclockid"));
  g_pthread_getcpuclockid = reinterpret_cast<pthread_cpuclock_fn>(dlsym(RTLD_NEXT, "pthread_getcpuclockid"));
}

bool names_a_pid(clockid_t clock) {
  return ckpt::timer::is_cpu_clock(clock) && ckpt::timer::cpu_clock_pid(clock) != 0 && ckpt_is_enabled();
}

int clock_call(long nr, gettime_fn real, clockid_t clock, struct timespec* ts) {
  if (names_a_pid(clock)) return static_cast<int>(ckpt::sys(nr, ckpt::timer::kernel_clock(clock), ts));
  if (real) return real(clock, ts);
  return static_cast<int>(ckpt::sys(nr, clock, ts));
}

// The same clock, naming the virtual id of what `clock` names.
clockid_t virtual_clock(clockid_t clock) {
  using namespace ckpt::timer;
  if (!is_cpu_clock(clock) || cpu_clock_pid(clock) == 0 || !ckpt_is_enabled()) return clock;
  return make_cpu_clock(ckpt_virtual_pid(cpu_clock_pid(clock)), cpu_clock_per_thread(clock), clock);
}

}  // namespace

extern "C" {

int clock_gettime(clockid_t clock, struct timespec* ts) { return clock_call(SYS_clock_gettime, g_gettime, clock, ts); }

int clock_getres(clockid_t clock, struct timespec* res) { return clock_call(SYS_clock_getres, g_getres, clock, res); }

int clock_getcpuclockid(pid_t pid, clockid_t* clock) {
  if (!g_getcpuclockid) return ENOSYS;
  if (pid == 0 || !ckpt_is_enabled()) return g_getcpuclockid(pid, clock);
  clockid_t real;
  int rc = g_getcpuclockid(ckpt_real_pid(pid), &real);
  if (rc == 0) *clock = ckpt::timer::make_cpu_clock(pid, false, real);
  return rc;
}

int pthread_getcpuclockid(pthread_t thread, clockid_t* clock) {
  if (!g_pthread_getcpuclockid) return ENOSYS;
  int rc = g_pthread_getcpuclockid(thread, clock);
  if (rc == 0) *clock = virtual_clock(*clock);
  return rc;
}

}  // extern "C"
