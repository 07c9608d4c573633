/* SIGEV_THREAD done by libckpt itself (plugins/timer, plugins/mqueue): glibc's
 * helper threads block every signal, so no checkpoint could stop them.
 * start_sigev_thread runs fn(value) in a new detached thread with the
 * registering thread's signal mask and the program's pthread_attr_t (or the
 * defaults). Header-only; malloc, not new: libckpt.so does without libstdc++. */
#ifndef CKPT_SIGEV_THREAD_H
#define CKPT_SIGEV_THREAD_H

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

namespace ckpt {

struct SigevCall {
  void (*function)(union sigval);
  union sigval value;
  sigset_t mask;
};

inline void* run_sigev_call(void* arg) {
  SigevCall call = *static_cast<SigevCall*>(arg);
  free(arg);
  pthread_sigmask(SIG_SETMASK, &call.mask, nullptr);
  call.function(call.value);
  return nullptr;
}

// `attr`: the program's attributes (copied as given), or null for the defaults.
inline void start_sigev_thread(void (*function)(union sigval), union sigval value, const sigset_t& mask,
                                    const pthread_attr_t* attr) {
  auto* call = static_cast<SigevCall*>(malloc(sizeof(SigevCall)));
  if (!call) return;
  *call = SigevCall{function, value, mask};
  pthread_attr_t use;
  if (attr) use = *attr;
  else pthread_attr_init(&use);
  pthread_attr_setdetachstate(&use, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  if (pthread_create(&thread, &use, run_sigev_call, call) != 0) free(call);
  if (!attr) pthread_attr_destroy(&use);
}

}  // namespace ckpt

#endif /* CKPT_SIGEV_THREAD_H */
