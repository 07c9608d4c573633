// Just enough JSON writing for the coordinator's replies (no parser here:
// ckpt_command reads them with Boost.PropertyTree).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ckpt::coord {

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

// Builds one object; values are appended in call order.
class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::string_view value);
  JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonObject& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
  JsonObject& add(std::string_view key, int64_t value);
  JsonObject& add(std::string_view key, uint64_t value);
  JsonObject& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  JsonObject& add(std::string_view key, unsigned value) { return add(key, static_cast<uint64_t>(value)); }
  JsonObject& add(std::string_view key, bool value);
  // `json` must already be valid JSON (a nested object or an array).
  JsonObject& add_raw(std::string_view key, std::string_view json);
  std::string str() const { return text_ + "}"; }

 private:
  void key(std::string_view k);
  std::string text_ = "{";
};

}  // namespace ckpt::coord
