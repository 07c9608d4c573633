#include "peers.h"

#include <errno.h>
#include <sys/syscall.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"

namespace ckpt::fd {

long computation_peers(MappedArray<Peer>& out) {
  out.clear();
  bool full = false;
  struct Sink {
    MappedArray<Peer>& out;
    bool& full;
  } sink{out, full};
  ckpt_for_each_process(
      [](pid_t virt, pid_t real, void* arg) {
        auto& s = *static_cast<Sink*>(arg);
        if (s.out.push({virt, real})) return 0;
        s.full = true;
        return 1;
      },
      &sink);
  return full ? -ENOMEM : static_cast<long>(out.size());
}

}  // namespace ckpt::fd
