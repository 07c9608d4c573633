#include "path_map_option.h"

#include <vector>

#include "ckpt/environment.h"
#include "path_map.h"

namespace ckpt {
namespace {

// Appends one checked entry (of `source`) to `out`.
void add_entry(const std::string& entry, const std::string& source, std::string& out) {
  const char *virt, *real;
  size_t virt_len, real_len;
  path::MapError e = entry.find('\n') != std::string::npos
                         ? path::MapError::MissingEquals
                         : path::parse_entry(entry.data(), entry.size(), &virt, &virt_len, &real, &real_len);
  if (e != path::MapError::None)
    throw cli::UsageError(source + ": '" + cli::printable(entry) + "': " + path::map_error_text(e));
  out += std::string(virt, virt_len) + "=" + std::string(real, real_len) + "\n";
}

// Splits `text` at `sep`, skipping empty pieces.
std::vector<std::string> pieces(const std::string& text, char sep) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= text.size();) {
    size_t end = text.find(sep, at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

}  // namespace

void add_path_map_option(cli::Parser& p, const std::string& help) { p.values("--path-map", "VIRTUAL=REAL", help); }

std::optional<std::string> path_map_option(const cli::Parser& p, const std::string& twin) {
  std::string out;
  std::vector<cli::Setting> given = p.in_order({"--path-map"});
  if (!given.empty()) {
    for (const cli::Setting& s : given) add_entry(s.value, s.source, out);
  } else if (auto env = p.variable(twin)) {
    for (const std::string& line : pieces(env->value, '\n')) add_entry(line, env->source, out);
  } else if (auto dmtcp = p.variable(CKPT_ENV_DMTCP_PATH_MAPPING)) {
    // DMTCP's pairs: the first ':' splits VIRTUAL from REAL.
    for (const std::string& pair : pieces(dmtcp->value, ';')) {
      size_t colon = pair.find(':');
      if (colon == std::string::npos || pair.find('=') != std::string::npos)
        throw cli::UsageError(dmtcp->source + ": '" + cli::printable(pair) + "': expected VIRTUAL:REAL");
      add_entry(pair.substr(0, colon) + "=" + pair.substr(colon + 1), dmtcp->source, out);
    }
  } else {
    return std::nullopt;
  }
  // The plugin's table must hold it all (duplicates, count, size).
  static path::PathMap table;  // large: not on the stack
  size_t line;
  path::MapError e = table.load(out.c_str(), &line);
  if (e != path::MapError::None)
    throw cli::UsageError("--path-map: entry " + std::to_string(line) + ": " + path::map_error_text(e));
  return out;
}

}  // namespace ckpt
