// The one way ckpt_restart's planning code reports a problem: a one-line
// reason, caught where the restart can still be abandoned cleanly (before any
// process runs).
#pragma once

#include <stdexcept>
#include <string>

#include "cli.h"

namespace ckpt {

struct RestartError : std::runtime_error {
  explicit RestartError(const std::string& what, int exit_status = cli::kExitFailed)
      : std::runtime_error(what), exit_status(exit_status) {}
  int exit_status;  // ckpt_restart's, once --run-on-fail has run
};

}  // namespace ckpt
