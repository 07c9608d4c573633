// Section "posix_timer" (posix_timer_section.h) read back and checked, for
// the tools: ckpt_info's decoder (timer_schema.cpp) and ckpt_restart's check
// (timer_restart.cpp) both go through read_posix_timer_section(), so they
// refuse the same malformed sections.
#pragma once

#include <signal.h>

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
  constexpr int32_t kThreadId = 4;  // SIGEV_THREAD_ID, which <signal.h> may not declare
  for (const SavedPosixTimer& t : out) {
    const std::string which = "timer " + std::to_string(t.id) + ": ";
    if (t.id < 0) return which + "a negative id";
    if (t.notify != SIGEV_SIGNAL && t.notify != SIGEV_NONE && t.notify != SIGEV_THREAD && t.notify != kThreadId)
      return which + "notification " + std::to_string(t.notify);
    if (t.signo < 0 || t.signo > 64) return which + "signal " + std::to_string(t.signo);
    if (t.cpu_owner > CpuClockOwner::Thread) return which + "CPU-time clock owner " + std::to_string(static_cast<uint32_t>(t.cpu_owner));
    if ((t.cpu_owner == CpuClockOwner::None) != (t.clock_id >= 0)) return which + "clock " + std::to_string(t.clock_id);
    if (t.value_sec < 0 || t.interval_sec < 0 || t.value_nsec < 0 || t.value_nsec >= 1'000'000'000 ||
        t.interval_nsec < 0 || t.interval_nsec >= 1'000'000'000)
      return which + "a time out of range";
  }
  return "";
}

}  // namespace ckpt::timer
