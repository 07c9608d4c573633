// What the ckpt_launch option tests share: an environment of their own and
// parse_launch_options run on an argument list as main() would get it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "launch_options.h"

struct Env {
  std::map<std::string, std::string> vars;
  ckpt::EnvLookup lookup() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

inline ckpt::LaunchParse parse(std::vector<std::string> args, const Env& env = {}) {
  args.insert(args.begin(), "ckpt_launch");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return ckpt::parse_launch_options(static_cast<int>(argv.size()), argv.data(), env.lookup());
}
