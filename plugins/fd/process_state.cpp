#include "process_state.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"
#include "ckpt/frozen_io.h"

namespace ckpt::fd {

void save_process_state(image::FdSectionHeader& header) {
  if (raw_syscall(SYS_getcwd, reinterpret_cast<long>(header.cwd), sizeof header.cwd) < 0) header.cwd[0] = '\0';

  // umask(2) reads the mask only by replacing it; /proc/self/status reads
  // it without touching the process (Umask is near the top of the file).
  char status[4096];
  uint64_t mask = 022;
  if (read_small_file("/proc/self/status", status, sizeof status) > 0) find_number_field(status, "Umask", 8, &mask);
  header.umask = static_cast<uint32_t>(mask);

  for (uint32_t r = 0; r < image::kRlimitCount; ++r) {
    struct rlimit lim;
    if (raw_syscall(SYS_prlimit64, 0, r, 0, reinterpret_cast<long>(&lim)) < 0) lim.rlim_cur = lim.rlim_max = RLIM_INFINITY;
    header.rlimits[r].cur = lim.rlim_cur;
    header.rlimits[r].max = lim.rlim_max;
  }
}

}  // namespace ckpt::fd
