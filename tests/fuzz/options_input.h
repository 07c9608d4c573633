// The input of the option fuzzer: the first byte picks the tool's parser,
// the rest is '\0'-separated arguments; an argument that starts with '\x01'
// is an environment entry NAME=VALUE instead. Shared by the fuzzer and the
// seed writer (make_seeds.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ckpt::fuzz {

enum class Tool : uint8_t { Launch, Restart, Coordinator, Command, kTools };

inline constexpr char kEnvMark = '\x01';

struct OptionsInput {
  Tool tool = Tool::Launch;
  std::vector<std::string> args;                            // argv[1...]
  std::vector<std::pair<std::string, std::string>> env;  // NAME, VALUE
};

inline OptionsInput decode_options(const uint8_t* data, size_t size) {
  OptionsInput in;
  if (size == 0) return in;
  in.tool = static_cast<Tool>(data[0] % static_cast<uint8_t>(Tool::kTools));
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (size_t pos = 0; pos <= rest.size();) {
    size_t end = rest.find('\0', pos);
    if (end == std::string::npos) end = rest.size();
    std::string token = rest.substr(pos, end - pos);
    pos = end + 1;
    if (!token.empty() && token[0] == kEnvMark) {
      const size_t eq = token.find('=');
      if (eq != std::string::npos) in.env.emplace_back(token.substr(1, eq - 1), token.substr(eq + 1));
    } else {
      in.args.push_back(std::move(token));
    }
  }
  return in;
}

inline std::string encode_options(Tool tool, const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::string out(1, static_cast<char>(tool));
  bool first = true;
  auto add = [&](const std::string& token) {
    if (!first) out += '\0';
    out += token;
    first = false;
  };
  for (const std::string& a : args) add(a);
  for (const std::string& e : env) add(kEnvMark + e);
  return out;
}

}  // namespace ckpt::fuzz
