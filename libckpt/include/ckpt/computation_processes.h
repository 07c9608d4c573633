// The live processes of the computation, listed into a MappedArray (no
// malloc: usable while every process is frozen), for the kinds that look at
// other processes' descriptors at a checkpoint (fd, event, pty).
#pragma once

#include <errno.h>
#include <sys/types.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"

namespace ckpt {

// A process of the computation: its virtual pid (what images and the
// application name it by) and its kernel pid (/proc/<pid>, kcmp, signals).
struct ComputationProcess {
  pid_t vpid;
  pid_t real;
};

// This process first, then every other live process of the computation
// (ckpt_for_each_process). Returns how many, or -ENOMEM when `out` cannot
// grow (then the list is incomplete and must not be used).
inline long list_computation_processes(MappedArray<ComputationProcess>& out) {
  out.clear();
  struct Sink {
    MappedArray<ComputationProcess>& out;
    bool full;
  } sink{out, false};
  ckpt_for_each_process(
      [](pid_t virt, pid_t real, void* arg) {
        auto& s = *static_cast<Sink*>(arg);
        if (s.out.push({virt, real})) return 0;
        s.full = true;
        return 1;
      },
      &sink);
  return sink.full ? -ENOMEM : static_cast<long>(out.size());
}

}  // namespace ckpt
