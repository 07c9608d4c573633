// Section "posix_timer" (posix_timer_section.h) read back and checked, for
// the tools: ckpt_info's decoder (timer_schema.cpp) and ckpt_restart's check
// (timer_restart.cpp) both go through read_posix_timer_section(), so they
// refuse the same malformed sections.
#pragma once

#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "posix_timer_section.h"

namespace ckpt::timer {

// Fills `out`; returns "" or why the bytes are not a valid section.
inline std::string read_posix_timer_section(std::span<const uint8_t> bytes, std::vector<SavedPosixTimer>& out) {
  PosixTimerSectionHeader h;
  if (bytes.size() < sizeof h) return "truncated header (" + std::to_string(bytes.size()) + " bytes)";
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.version != kPosixTimerSectionVersion)
    return "version " + std::to_string(h.version) + ", this ckpt reads " + std::to_string(kPosixTimerSectionVersion);
  if (h.count > kMaxPosixTimers) return std::to_string(h.count) + " timers, more than " + std::to_string(kMaxPosixTimers);
  if (bytes.size() != sizeof h + h.count * sizeof(SavedPosixTimer))
    return std::to_string(bytes.size()) + " bytes for " + std::to_string(h.count) + " timers";
  out.resize(h.count);
  if (h.count) std::memcpy(out.data(), bytes.data() + sizeof h, h.count * sizeof(SavedPosixTimer));
  return "";
}

}  // namespace ckpt::timer
