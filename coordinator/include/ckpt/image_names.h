// How a checkpoint directory's files are named, shared by libckpt (which
// writes its process's images and removes its own old ones) and the
// coordinator (which writes the restart scripts and numbers each new
// generation past every one the directory holds). Allocation-free: libckpt's
// checkpoint thread uses it while other threads are frozen.
//
//   ckpt_<program>_<unique id>_g<N>.ckpt          one process's image of generation N
//   ckpt_<program>_<unique id>_g<N>.ckpt.tmp.<pid> its writer's temporary file
//   ckpt_restart_g<N>.sh                          generation N's restart script: N is committed
//   ckpt_restart_script.sh                        a copy of the newest committed generation's
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <string.h>

namespace ckpt::names {

inline constexpr char kImagePrefix[] = "ckpt_";
inline constexpr char kImageSuffix[] = ".ckpt";
inline constexpr char kTempInfix[] = ".tmp.";
inline constexpr char kScriptPrefix[] = "ckpt_restart_g";
inline constexpr char kScriptSuffix[] = ".sh";

// The image's file name (a restart checks that each image's name says what
// the image records). False if it did not fit in `cap` bytes.
inline bool image_name(char* out, size_t cap, const char* program, const char* unique_id, uint64_t generation) {
  const int n = snprintf(out, cap, "%s%s_%s_g%llu%s", kImagePrefix, program, unique_id,
                         static_cast<unsigned long long>(generation), kImageSuffix);
  return n >= 0 && static_cast<size_t>(n) < cap;
}

// The image's path in `dir`. False if it did not fit in `cap` bytes.
inline bool image_path(char* out, size_t cap, const char* dir, const char* program, const char* unique_id,
                       uint64_t generation) {
  const int n = snprintf(out, cap, "%s/", dir);
  return n >= 0 && static_cast<size_t>(n) < cap && image_name(out + n, cap - n, program, unique_id, generation);
}

inline void script_name(char* out, size_t cap, uint64_t generation) {
  snprintf(out, cap, "%s%llu%s", kScriptPrefix, static_cast<unsigned long long>(generation), kScriptSuffix);
}

namespace detail {
inline bool ends_with(const char* s, size_t len, const char* suffix) {
  const size_t n = strlen(suffix);
  return len >= n && memcmp(s + len - n, suffix, n) == 0;
}
inline bool all_digits(const char* s, size_t len) {
  if (len == 0) return false;
  for (size_t i = 0; i < len; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}
inline uint64_t number(const char* s, size_t len) {
  uint64_t n = 0;
  for (size_t i = 0; i < len; ++i) n = n * 10 + static_cast<uint64_t>(s[i] - '0');
  return n;
}
}  // namespace detail

// A directory entry that is an image or an image writer's temporary file.
struct ImageName {
  uint64_t generation = 0;
  bool temporary = false;
};

// True if `name` is an image (or its temporary file); with `unique_id`, only
// an image of that process (its program may have changed with exec).
inline bool parse_image_name(const char* name, ImageName* out, const char* unique_id = nullptr) {
  using namespace detail;
  const size_t prefix = strlen(kImagePrefix);
  if (strncmp(name, kImagePrefix, prefix) != 0) return false;
  size_t end = strlen(name);  // the image name proper is name[0, end)
  out->temporary = false;
  if (!ends_with(name, end, kImageSuffix)) {
    const char* tmp = strstr(name, kTempInfix);
    while (tmp && strstr(tmp + 1, kTempInfix)) tmp = strstr(tmp + 1, kTempInfix);
    if (!tmp) return false;
    const char* pid = tmp + strlen(kTempInfix);
    if (!all_digits(pid, strlen(pid))) return false;
    end = static_cast<size_t>(tmp - name);
    out->temporary = true;
    if (!ends_with(name, end, kImageSuffix)) return false;
  }
  end -= strlen(kImageSuffix);
  size_t digits = end;
  while (digits > prefix && name[digits - 1] >= '0' && name[digits - 1] <= '9') --digits;
  if (digits == end || digits < prefix + 2 || name[digits - 1] != 'g' || name[digits - 2] != '_') return false;
  out->generation = number(name + digits, end - digits);
  if (!unique_id) return true;
  // "..._<unique id>_g<N>"
  const size_t id_len = strlen(unique_id);
  const size_t id_end = digits - 2;
  return id_len > 0 && id_end >= prefix + id_len + 1 && name[id_end - id_len - 1] == '_' &&
         memcmp(name + id_end - id_len, unique_id, id_len) == 0;
}

// True if `name` is a generation's restart script; its generation in *generation.
inline bool parse_script_name(const char* name, uint64_t* generation) {
  using namespace detail;
  const size_t prefix = strlen(kScriptPrefix), len = strlen(name);
  if (strncmp(name, kScriptPrefix, prefix) != 0 || !ends_with(name, len, kScriptSuffix)) return false;
  const size_t digits = len - prefix - strlen(kScriptSuffix);
  if (!all_digits(name + prefix, digits)) return false;
  *generation = number(name + prefix, digits);
  return true;
}

}  // namespace ckpt::names
