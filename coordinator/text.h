// Small wording helpers shared by the coordinator's log, its script header
// and ckpt_command's output.
#pragma once

#include <string>
#include <string_view>

namespace ckpt::coord {

// "1 process", "3 processes", "2 images".
inline std::string plural(size_t n, std::string_view noun) {
  std::string s = std::to_string(n) + " " + std::string(noun);
  if (n != 1) s += noun.ends_with('s') ? "es" : "s";
  return s;
}

}  // namespace ckpt::coord
