// Fuzzes the section decoders of the resource kinds (plugins/*/*_schema.cpp
// and libckpt/image's own) straight, without an image around them: the
// input is a section name, a '\0', and the section's bytes. Whatever the
// bytes, a decoder returns JSON or throws (ckpt_info then shows an error).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "image_info.h"
#include "section_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* nul = static_cast<const uint8_t*>(std::memchr(data, '\0', size));
  if (nul == nullptr) return 0;
  const std::string_view name(reinterpret_cast<const char*>(data), nul - data);
  const ckpt::image::Bytes bytes(nul + 1, data + size);
  ckpt::image::json_text(ckpt::image::decode_section(name, bytes));
  return 0;
}
