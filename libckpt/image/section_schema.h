// Section decoders for the tools (ckpt_info, ckpt_restart --info): each kind
// declares next to its code how to turn its saved section into JSON, and
// registers it here by the section name (or name prefix) its header defines.
// Ordinary C++ with exceptions, never linked into libckpt.so.
//
// The decoders are built into the OBJECT library ckpt_image_info (the kinds
// add their *_schema.cpp with ckpt_add_schema()), so every registration's
// static initialiser is linked into the tools.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ckpt::image {

// Objects keep their keys in the order the decoder gives them.
using Json = nlohmann::ordered_json;
using Bytes = std::span<const uint8_t>;

// A decoder throws this (or any std::exception) for a section it cannot
// read: too short, a wrong version, counts that do not fit. The section then
// shows as an error entry; images can be crafted.
struct SchemaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SectionSchema {
  const char* name;  // the section's name, or the prefix of its names
  bool prefix;
  // The decoded content. `name` is the section's full name (a prefixed
  // section's suffix says what it belongs to).
  Json (*decode)(std::string_view name, Bytes bytes);
};

// Registers a schema for the life of the program (a static object per kind).
struct SchemaRegistration {
  explicit SchemaRegistration(const SectionSchema& schema);
};

// The schema for a section name: an exact name first, then the longest
// prefix. nullptr if no kind knows the name.
const SectionSchema* find_schema(std::string_view name);

// A section as ckpt_info shows it: {"name", "size", "schema", then either
// "content" (decoded), "error" (a schema that refused it) or, for a section
// no schema knows, its first bytes in hex}.
Json decode_section(std::string_view name, Bytes bytes);

// ---- helpers for decoders ----------------------------------------------------

// The section as a T, whose size must match exactly.
template <typename T>
T read_exact(Bytes bytes, const char* what) {
  if (bytes.size() != sizeof(T))
    throw SchemaError(std::string(what) + ": " + std::to_string(bytes.size()) + " bytes, expected " +
                      std::to_string(sizeof(T)));
  T out;
  std::memcpy(&out, bytes.data(), sizeof out);
  return out;
}

// Throws unless a section's version is the one this ckpt writes.
void check_version(uint32_t version, uint32_t expected, const char* what);

// A fixed-size char field up to its first NUL (all of it if none).
template <size_t N>
std::string fixed_string(const char (&field)[N]) {
  return std::string(field, strnlen(field, N));
}

std::string hex_string(uint64_t v);        // "0x1f"
std::string octal_string(uint64_t v);      // "644", "022", "100755"
std::string hex_bytes(Bytes bytes);        // "48656c6c6f"
// Bytes as ASCII with C escapes (\\, \n, \t, \r, \xNN for everything not
// printable): lossless, and Python reads it back with codecs.escape_decode.
std::string escape_bytes(Bytes bytes);

// {"data": escaped first `cap` bytes, "data_shown": n, "data_truncated": b}.
void add_data(Json& out, Bytes bytes, size_t cap);

// The most bytes of a data section (file contents, pipe bytes) and of an
// unknown section that ckpt_info shows.
inline constexpr size_t kDataShown = 64 * 1024;
inline constexpr size_t kHexShown = 4096;

// A sigset's bits (bit sig - 1) as signal names ("SIGINT", "SIGRTMIN+3").
Json signal_names(uint64_t set);
std::string signal_name(int sig);

}  // namespace ckpt::image
