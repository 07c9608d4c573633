// The coordinator's log: one line per event on stderr (a daemon's stderr is
// its log file), filtered by CKPT_LOG=error|warn|info|debug (default info).
//
// Peers can make the coordinator log (a bad connection, an unexpected
// message), so the log is bounded twice over (issue 8): lines are
// rate-limited, and a daemon's log file is rotated at a size.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "state_machine.h"

namespace ckpt::coord {

// Writes one line: "DATE TIME ckpt_coordinator[PID] LEVEL: text".
void write_log(LogLevel level, const std::string& text);

// From now on stderr (and stdout) is the log file at `path`: when it would
// grow past `max_bytes` it is renamed to PATH.1, replacing the previous
// one, and a new PATH is started, so the log takes at most about twice
// `max_bytes`. If no new file can be made, the old one is emptied instead.
void rotate_log_at(const std::string& path, uint64_t max_bytes);

// A token bucket over log lines: at most `burst` at once, then `per_second`.
class LineBudget {
 public:
  using Clock = std::chrono::steady_clock;
  LineBudget(double burst, double per_second) : burst_(burst), rate_(per_second), tokens_(burst) {}

  // Whether a line may be written at `now`; a refused one is counted.
  bool take(Clock::time_point now);
  // The lines refused since the last call.
  uint64_t take_dropped();

 private:
  double burst_, rate_, tokens_;
  Clock::time_point last_{};
  uint64_t dropped_ = 0;
};

}  // namespace ckpt::coord
