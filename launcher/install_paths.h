// Locating the ckpt install tree from the running tool.
//
// The tools live in <prefix>/bin and libckpt.so in <prefix>/lib, both in an
// installed tree and in the build tree (build/bin, build/lib). Every tool finds
// the rest of the tree from its own executable, so the tree can be moved or
// copied anywhere without reconfiguring.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ckpt {

struct InstallPaths {
  std::filesystem::path prefix;  // parent of bin/ and lib/
  std::filesystem::path bindir;
  std::filesystem::path libdir;

  std::filesystem::path libckpt() const { return libdir / "libckpt.so"; }
  std::filesystem::path tool(std::string_view name) const { return bindir / name; }
};

// Derives the tree from /proc/self/exe, i.e. with symlinks to the tool already
// resolved (a symlink in /usr/local/bin still finds the real tree). Returns
// false with `error` set if the executable's path cannot be read.
bool find_install_paths(InstallPaths& out, std::string& error);

}  // namespace ckpt
