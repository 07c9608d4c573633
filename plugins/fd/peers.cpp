#include "peers.h"

#include <stdlib.h>
#include <sys/syscall.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "pid_table.h"

namespace ckpt::fd {

long computation_peers(MappedArray<Peer>& out) {
  out.clear();
  pid_t self = static_cast<pid_t>(raw_syscall(SYS_getpid));
  if (!out.push({ckpt_virtual_pid(self), self})) return -ENOMEM;
  // The pid plugin's shared table names every process of the computation.
  // A mapping of our own, for the time of the scan: it must not outlive
  // DRAIN, or the image would hold a second mapping of the table.
  const char* path = getenv("CKPT_PIDTABLE");
  PidTable table;
  if (!path || !*path || PidTable::open(path, table) != 0) return static_cast<long>(out.size());
  long result = 0;
  table.for_each([&](const PidEntry& e) {
    // Zombies and group-only entries carry flags and have no descriptors.
    if (e.flags != 0 || e.real == self || e.real <= 0) return true;
    if (!out.push({e.vpid, e.real})) {
      result = -ENOMEM;
      return false;
    }
    return true;
  });
  table.close();
  return result < 0 ? result : static_cast<long>(out.size());
}

}  // namespace ckpt::fd
