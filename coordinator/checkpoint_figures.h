// A checkpoint's and a restart's figures as ckpt_command shows them: each
// process's (ckpt/checkpoint_stats.h) and their totals. Pure functions of
// what the processes reported, unit-tested on their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ckpt/checkpoint_stats.h"
#include "cli_json.h"

namespace ckpt::coord {

// One process of a committed checkpoint.
struct ProcessFigures {
  uint32_t id = 0;  // the coordinator's number for the process
  std::string program;
  int pid = 0;
  std::string host;
  std::string image;
  // What its image writer counted; none from a libckpt older than the
  // figures, or figures the coordinator refused.
  std::optional<stats::WrittenFigures> written;
  // How long its threads were stopped; none without REFILLED (--then-kill:
  // they never run again) or from an older libckpt.
  std::optional<uint64_t> pause_ns;
};

// {"freeze_ms", "pause_ms" (the longest), "totals": {...}, "processes": [...]}:
// totals add up counts and bytes, and take the longest write and sync.
// A figure nobody reported is null.
cli::Json checkpoint_figures_json(const std::vector<ProcessFigures>& processes,
                                  std::optional<std::chrono::nanoseconds> freeze);

// The summary ckpt_command prints after "checkpoint N written: ..." from
// checkpoint_figures_json's output; empty when it holds no figures.
std::string checkpoint_figures_line(const cli::Json& figures);

// Milliseconds to the microsecond.
double ms(uint64_t ns);

}  // namespace ckpt::coord
