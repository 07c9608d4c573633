// Decoder of section "path" (path_section.h), for ckpt_info: the path map
// the process ran with, one {virtual, real} entry per line of it.
#include "path_section.h"
#include "section_schema.h"

namespace ckpt::image {
namespace {

Json decode_path(std::string_view, Bytes bytes) {
  path::PathSectionHeader h;
  if (bytes.size() < sizeof h) throw SchemaError("path: " + std::to_string(bytes.size()) + " bytes, shorter than its header");
  std::memcpy(&h, bytes.data(), sizeof h);
  check_version(h.version, path::kPathSectionVersion, "path");
  if (bytes.size() != sizeof h + h.text_bytes)
    throw SchemaError("path: " + std::to_string(bytes.size()) + " bytes, expected " +
                      std::to_string(sizeof h + h.text_bytes));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()) + sizeof h, h.text_bytes);
  Json entries = Json::array();
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) throw SchemaError("path: an entry without '=': " + std::string(line));
    entries.push_back({{"virtual", std::string(line.substr(0, eq))}, {"real", std::string(line.substr(eq + 1))}});
  }
  return {{"version", h.version}, {"entries", entries}};
}

const SectionSchema kPathSchema{path::kPathSection, false, decode_path};
const SchemaRegistration kRegistered(kPathSchema);

}  // namespace
}  // namespace ckpt::image
