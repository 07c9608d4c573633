// The one way ckpt_restart's planning code reports a problem: a one-line
// reason, caught where the restart can still be abandoned cleanly (before any
// process runs).
#pragma once

#include <stdexcept>
#include <string>

namespace ckpt {

struct RestartError : std::runtime_error {
  explicit RestartError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace ckpt
