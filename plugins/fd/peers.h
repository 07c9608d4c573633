// The live processes of the computation, as the fd plugin needs them: their
// virtual pid (which names descriptions in desc_id) and kernel pid (which
// opens /proc/<pid>/fd and answers kcmp).
#pragma once

#include <sys/types.h>

#include "ckpt/frozen_io.h"

namespace ckpt::fd {

struct Peer {
  pid_t vpid;
  pid_t real;
};

// This process first, then every other live process of the computation
// (ckpt_for_each_process). Returns the number of peers, or -ENOMEM.
long computation_peers(MappedArray<Peer>& out);

}  // namespace ckpt::fd
