#include "install_paths.h"

namespace ckpt {

bool find_install_paths(InstallPaths& out, std::string& error) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    error = "cannot locate own executable: /proc/self/exe: " + ec.message();
    return false;
  }
  out.bindir = exe.parent_path();
  out.prefix = out.bindir.parent_path();
  out.libdir = out.prefix / "lib";
  return true;
}

}  // namespace ckpt
