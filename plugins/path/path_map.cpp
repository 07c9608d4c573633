#include "path_map.h"

#include <string.h>

namespace ckpt::path {

const char* map_error_text(MapError e) {
  switch (e) {
    case MapError::None: return "no error";
    case MapError::MissingEquals: return "expected VIRTUAL=REAL";
    case MapError::NotAbsolute: return "both paths must be absolute";
    case MapError::Root: return "a path may not be / itself";
    case MapError::DuplicateVirtual: return "the same VIRTUAL path is mapped twice";
    case MapError::TooMuch: return "too many entries or too long (the map holds 32 entries, 4 KiB in all)";
  }
  return "unknown error";
}

namespace {

// Drops trailing slashes, keeping a lone "/" (which the caller refuses).
size_t trimmed(const char* p, size_t n) {
  while (n > 1 && p[n - 1] == '/') --n;
  return n;
}

// Whether `prefix` covers `path`: equal, or followed in `path` by '/'.
bool covers(const char* prefix, size_t prefix_len, const char* path, size_t len) {
  return len >= prefix_len && memcmp(path, prefix, prefix_len) == 0 && (len == prefix_len || path[prefix_len] == '/');
}

}  // namespace

MapError parse_entry(const char* text, size_t len, const char** virt, size_t* virt_len, const char** real,
                     size_t* real_len) {
  const char* eq = static_cast<const char*>(memchr(text, '=', len));
  if (!eq) return MapError::MissingEquals;
  *virt = text;
  *virt_len = trimmed(text, static_cast<size_t>(eq - text));
  *real = eq + 1;
  *real_len = trimmed(eq + 1, len - static_cast<size_t>(eq + 1 - text));
  if (*virt_len == 0 || *real_len == 0 || **virt != '/' || **real != '/') return MapError::NotAbsolute;
  if (*virt_len == 1 || *real_len == 1) return MapError::Root;
  return MapError::None;
}

MapError PathMap::load(const char* text, size_t* line) {
  count_ = 0;
  *line = 0;
  if (!text) return MapError::None;
  size_t used = 0;
  for (const char* p = text; *p;) {
    const char* nl = strchr(p, '\n');
    size_t n = nl ? static_cast<size_t>(nl - p) : strlen(p);
    ++*line;
    if (n > 0) {
      const char *virt, *real;
      size_t virt_len, real_len;
      MapError e = parse_entry(p, n, &virt, &virt_len, &real, &real_len);
      if (e == MapError::None && (count_ == kMaxEntries || used + virt_len + real_len + 2 > kMaxText))
        e = MapError::TooMuch;
      for (size_t i = 0; e == MapError::None && i < count_; ++i)
        if (entries_[i].virt_len == virt_len && memcmp(text_ + entries_[i].virt, virt, virt_len) == 0)
          e = MapError::DuplicateVirtual;
      if (e != MapError::None) {
        count_ = 0;
        return e;
      }
      Entry& en = entries_[count_++];
      en.virt = static_cast<unsigned>(used);
      en.virt_len = static_cast<unsigned>(virt_len);
      memcpy(text_ + used, virt, virt_len);
      text_[used + virt_len] = '\0';
      used += virt_len + 1;
      en.real = static_cast<unsigned>(used);
      en.real_len = static_cast<unsigned>(real_len);
      memcpy(text_ + used, real, real_len);
      text_[used + real_len] = '\0';
      used += real_len + 1;
    }
    p += n + (nl ? 1 : 0);
  }
  *line = 0;
  return MapError::None;
}

long PathMap::rewrite(const char* path, size_t len, char* out, size_t cap, bool to_real) const {
  const Entry* best = nullptr;
  for (size_t i = 0; i < count_; ++i) {
    const Entry& e = entries_[i];
    unsigned from = to_real ? e.virt : e.real, from_len = to_real ? e.virt_len : e.real_len;
    if (covers(text_ + from, from_len, path, len) &&
        (!best || from_len > (to_real ? best->virt_len : best->real_len)))
      best = &e;
  }
  if (!best) return -1;
  const unsigned from_len = to_real ? best->virt_len : best->real_len;
  const unsigned to = to_real ? best->real : best->virt, to_len = to_real ? best->real_len : best->virt_len;
  const size_t total = to_len + (len - from_len);
  if (total + 1 > cap) return -1;
  // `out` may be `path` itself (a result rewritten in place): move the tail first.
  memmove(out + to_len, path + from_len, len - from_len);
  memcpy(out, text_ + to, to_len);
  out[total] = '\0';
  return static_cast<long>(total);
}

}  // namespace ckpt::path
