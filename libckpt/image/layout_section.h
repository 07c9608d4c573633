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

// Fills the layout fields of `out` (not version, not brk, which
// /proc/self/stat lacks) from the text of /proc/self/stat: proc(5) fields
// 26-28 and 45-51. Allocation-free, for libckpt's checkpoint path and for
// ckpt_restart. Returns false if the text is cut short.
inline bool parse_stat_layout(const char* stat, LayoutSection& out) {
  const char* p = stat;
  for (const char* q = stat; *q; ++q)
    if (*q == ')') p = q;  // the last ')': the command name may hold anything
  if (*p != ')') return false;
  uint64_t field[52] = {};
  int index = 2;  // ")" ends field 2
  for (++p; *p && index < 51;) {
    while (*p == ' ') ++p;
    ++index;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
    field[index] = v;
    while (*p && *p != ' ') ++p;  // the state letter, or a negative number
  }
  if (index < 51) return false;
  out.start_code = field[26];
  out.end_code = field[27];
  out.start_stack = field[28];
  out.start_data = field[45];
  out.end_data = field[46];
  out.start_brk = field[47];
  out.arg_start = field[48];
  out.arg_end = field[49];
  out.env_start = field[50];
  out.env_end = field[51];
  return true;
}

}  // namespace ckpt::image
