// Path rewriting on restart: `--relocate OLD=NEW` prefixes (BLCR's
// cr_restart --relocate) and exact renames (the pid table, whose file is new
// at every restart). Pure string work, unit-tested.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ckpt {

class PathRewriter {
 public:
  // OLD and NEW are absolute paths. OLD matches a path equal to it or one
  // that continues with '/' after it (whole components: /data matches
  // /data/x, never /database). Trailing slashes are ignored.
  void add_prefix(const std::string& old_prefix, const std::string& new_prefix);
  // Exactly this path, nothing below it. Checked before the prefixes.
  void add_exact(const std::string& old_path, const std::string& new_path);

  // Whether add_exact() named this path: such a file is replaced as a whole.
  bool renamed(const std::string& path) const;

  // The path after the longest matching prefix was replaced; unchanged if
  // none matches or the path is not absolute.
  std::string apply(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, std::string>> prefixes_;  // longest OLD first
  std::vector<std::pair<std::string, std::string>> exact_;
};

// Parses "OLD=NEW" (the first '=' separates; both absolute). Returns false
// with a reason in `error`.
bool parse_relocation(const std::string& text, std::string& old_prefix, std::string& new_prefix,
                      std::string& error);

}  // namespace ckpt
