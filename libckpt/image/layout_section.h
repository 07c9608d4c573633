// Section "layout" (libckpt core): the kernel's record of the process's
// address-space layout at checkpoint time, from /proc/self/stat. ckpt_restart
// gives it back with prctl(PR_SET_MM_MAP): the program break is the saved
// one, and /proc/PID/cmdline and environ read the restored argument and
// environment strings (ps shows the program, not ckpt_restart).
#pragma once

#include <stdint.h>

namespace ckpt::image {

inline constexpr char kLayoutSection[] = "layout";
inline constexpr uint32_t kLayoutSectionVersion = 1;

struct LayoutSection {
  uint32_t version;
  uint32_t reserved;
  // In struct prctl_mm_map's order.
  uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack, arg_start, arg_end, env_start,
      env_end;
};

}  // namespace ckpt::image
