#include "ckpt/restart_paths.h"

#include <algorithm>

namespace ckpt {
namespace {

std::string without_trailing_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

void PathRewriter::add_prefix(const std::string& old_prefix, const std::string& new_prefix) {
  prefixes_.emplace_back(without_trailing_slashes(old_prefix), without_trailing_slashes(new_prefix));
  // Longest first, so /data/big=... wins over /data=... ; stable keeps the
  // command line's order among equal lengths (the first one wins).
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

void PathRewriter::add_exact(const std::string& old_path, const std::string& new_path) {
  exact_.emplace_back(old_path, new_path);
}

bool PathRewriter::renamed(const std::string& path) const {
  for (const auto& entry : exact_)
    if (entry.first == path) return true;
  return false;
}

std::string PathRewriter::apply(const std::string& path) const {
  for (const auto& [from, to] : exact_)
    if (path == from) return to;
  if (path.empty() || path[0] != '/') return path;
  for (const auto& [from, to] : prefixes_) {
    if (from == "/") return to == "/" ? path : to + path;
    if (path.compare(0, from.size(), from) != 0) continue;
    if (path.size() == from.size()) return to;
    if (path[from.size()] != '/') continue;
    return (to == "/" ? std::string() : to) + path.substr(from.size());
  }
  return path;
}

bool parse_relocation(const std::string& text, std::string& old_prefix, std::string& new_prefix,
                      std::string& error) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) {
    error = "'" + text + "' is not OLD=NEW";
    return false;
  }
  old_prefix = text.substr(0, eq);
  new_prefix = text.substr(eq + 1);
  if (old_prefix.empty() || old_prefix[0] != '/' || new_prefix.empty() || new_prefix[0] != '/') {
    error = "'" + text + "': OLD and NEW must be absolute paths";
    return false;
  }
  return true;
}

}  // namespace ckpt
