// The registry of section decoders, and the helpers they share.
#include "section_schema.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace ckpt::image {
namespace {

std::vector<const SectionSchema*>& registry() {
  static std::vector<const SectionSchema*> schemas;
  return schemas;
}

}  // namespace

SchemaRegistration::SchemaRegistration(const SectionSchema& schema) { registry().push_back(&schema); }

const SectionSchema* find_schema(std::string_view name) {
  const SectionSchema* best = nullptr;
  for (const SectionSchema* s : registry()) {
    std::string_view key = s->name;
    if (!s->prefix && key == name) return s;
    if (s->prefix && name.size() > key.size() && name.starts_with(key) &&
        (!best || key.size() > std::string_view(best->name).size()))
      best = s;
  }
  return best;
}

Json decode_section(std::string_view name, Bytes bytes) {
  Json out = {{"name", name}, {"size", bytes.size()}};
  const SectionSchema* schema = find_schema(name);
  if (!schema) {
    size_t shown = std::min(bytes.size(), kHexShown);
    out["schema"] = nullptr;
    out["hex"] = hex_bytes(bytes.first(shown));
    out["hex_shown"] = shown;
    out["hex_truncated"] = shown < bytes.size();
    return out;
  }
  out["schema"] = schema->name;
  try {
    out["content"] = schema->decode(name, bytes);
  } catch (const std::exception& e) {
    out["error"] = std::string("section ") + std::string(name) + ": " + e.what();
  }
  return out;
}

void check_version(uint32_t version, uint32_t expected, const char* what) {
  if (version != expected)
    throw SchemaError(std::string(what) + ": version " + std::to_string(version) + ", this ckpt reads version " +
                      std::to_string(expected));
}

std::string hex_string(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string octal_string(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%03llo", static_cast<unsigned long long>(v));
  return buf;
}

std::string hex_bytes(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string escape_bytes(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (uint8_t b : bytes) {
    switch (b) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (b >= 0x20 && b < 0x7f) {
          out += static_cast<char>(b);
        } else {
          out += "\\x";
          out += kDigits[b >> 4];
          out += kDigits[b & 15];
        }
    }
  }
  return out;
}

void add_data(Json& out, Bytes bytes, size_t cap) {
  size_t shown = std::min(bytes.size(), cap);
  out["data"] = escape_bytes(bytes.first(shown));
  out["data_shown"] = shown;
  out["data_truncated"] = shown < bytes.size();
}

std::string signal_name(int sig) {
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  const char* abbrev = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : nullptr;
  return abbrev ? std::string("SIG") + abbrev : "SIG" + std::to_string(sig);
}

Json signal_names(uint64_t set) {
  Json out = Json::array();
  for (int sig = 1; sig <= 64; ++sig)
    if (set & (1ull << (sig - 1))) out.push_back(signal_name(sig));
  return out;
}

}  // namespace ckpt::image
