// Every descriptor of every process of the computation, as far as sharing is
// concerned: which process holds it, what file it is (dev/ino) and, for
// pipes and FIFOs, which end. Built at DRAIN, when every process is frozen,
// so all the fd tables it reads are stable.
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "ckpt/computation_processes.h"
#include "ckpt/frozen_io.h"

namespace ckpt::fd {

using Peer = ComputationProcess;

enum Access : uint32_t { kRead = 1, kWrite = 2 };

// The access bits of F_GETFL flags.
uint32_t access_of(uint32_t status_flags);

struct Holder {
  pid_t vpid;
  pid_t real;
  int32_t fd;
  uint32_t access;  // Access bits; for pipes and FIFOs only (others: both)
  uint64_t dev;
  uint64_t ino;
  uint32_t mode;    // st_mode
  uint32_t reserved;

  // Orders holders as desc_id does: (vpid << 32 | fd).
  uint64_t key() const { return static_cast<uint64_t>(static_cast<uint32_t>(vpid)) << 32 | static_cast<uint32_t>(fd); }
};

class HolderTable {
 public:
  bool add(const Holder& h) { return holders_.push(h); }

  // Adds the descriptors of another process of the computation (through
  // /proc/<real>/fd and fdinfo). Returns how many, or a negative errno
  // (-ENOMEM: the table is full; others: the process is gone, a zombie).
  long add_process(const Peer& peer);

  // desc_id of `own` (one of this process's holders): the lowest key among
  // the holders of the same open file description (kcmp KCMP_FILE).
  uint64_t desc_id(const Holder& own);

  // Whether any holder of the pipe or FIFO (dev, ino) has access `access`.
  bool end_held(uint64_t dev, uint64_t ino, uint32_t access);

  // The lowest key among the holders of (dev, ino) that have `access`;
  // ~0 if none.
  uint64_t lowest_key(uint64_t dev, uint64_t ino, uint32_t access);

  void clear() { holders_.clear(); }
  void release() { holders_.release(); }

 private:
  MappedArray<Holder> holders_;
};

}  // namespace ckpt::fd
