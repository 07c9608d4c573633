// Fuzzes the tools' command-line and environment parsing (launcher/cli and
// the four tools' option readers): whatever the arguments and CKPT_*
// variables, a parser answers Run, Help, Version or one error line.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "launch_options.h"
#include "options.h"
#include "options_input.h"
#include "restart_options.h"

namespace {

using namespace ckpt;

void check_error(cli::Outcome outcome, const std::string& error) {
  // The one error shape: a single line, "TOOL: MESSAGE".
  if (outcome == cli::Outcome::Error && (error.empty() || error.find('\n') != std::string::npos ||
                                         error.find(": ") == std::string::npos))
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::OptionsInput in = fuzz::decode_options(data, size);
  const cli::EnvLookup env = [&in](const char* name) -> const char* {
    for (const auto& [n, v] : in.env)
      if (n == name) return v.c_str();
    return nullptr;
  };
  std::vector<const char*> argv = {"tool"};
  for (const std::string& a : in.args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(argv.size()) - 1;

  switch (in.tool) {
    case fuzz::Tool::Launch: {
      const LaunchParse p = parse_launch_options(argc, argv.data(), env);
      check_error(p.action, p.error);
      break;
    }
    case fuzz::Tool::Restart: {
      const RestartParse p = parse_restart_options(argc, argv.data(), env);
      check_error(p.action, p.error);
      break;
    }
    case fuzz::Tool::Coordinator: {
      const coord::CoordinatorParse p = coord::parse_coordinator_args(in.args, env);
      check_error(p.outcome, p.error);
      break;
    }
    case fuzz::Tool::Command:
    case fuzz::Tool::kTools: {
      const coord::CommandParse p = coord::parse_command_args(in.args, env);
      check_error(p.outcome, p.error);
      break;
    }
  }
  return 0;
}
