// The path map of path virtualization: VIRTUAL=REAL prefixes. The
// application names files under VIRTUAL; the kernel sees them under REAL.
// Shared by the plugin (whose wrappers rewrite paths while the application
// runs: no allocation, no locks), ckpt_launch and ckpt_restart (which check
// and encode --path-map) and the path kind's restart side.
//
// CKPT_PATH_MAP (the environment contract, ckpt/environment.h) holds the
// entries one per line, "VIRTUAL=REAL": the first '=' splits, both sides are
// absolute, a trailing '/' is dropped, and neither may be "/" itself. A
// prefix matches whole components: /data covers /data and /data/x, never
// /database. Of several prefixes that match, the longest wins.
#pragma once

#include <stddef.h>

namespace ckpt::path {

enum class MapError {
  None,
  MissingEquals,  // no '=' in the entry
  NotAbsolute,    // a side does not start with '/'
  Root,           // a side is "/" (it would cover every path)
  DuplicateVirtual,
  TooMuch,        // more entries or text than the table holds
};

const char* map_error_text(MapError e);

class PathMap {
 public:
  static constexpr size_t kMaxEntries = 32;
  static constexpr size_t kMaxText = 4096;  // CKPT_PATH_MAP's bytes, newlines included

  // Replaces the table with the entries of `text` (NULL or "": none).
  // Returns MapError::None, or the first error with its 1-based line in
  // *line; the table is then empty.
  MapError load(const char* text, size_t* line);
  void clear() { count_ = 0; }

  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  const char* virtual_prefix(size_t i) const { return text_ + entries_[i].virt; }
  const char* real_prefix(size_t i) const { return text_ + entries_[i].real; }

  // The path the kernel must see for the absolute `path` (`len` bytes), in
  // `out`: -1 if no VIRTUAL prefix covers it (or the result needs more than
  // `cap` bytes with its NUL), else the length of `out`'s string.
  long to_real(const char* path, size_t len, char* out, size_t cap) const { return rewrite(path, len, out, cap, true); }
  // The reverse, for paths the kernel returns (getcwd, readlink).
  long to_virtual(const char* path, size_t len, char* out, size_t cap) const {
    return rewrite(path, len, out, cap, false);
  }

 private:
  struct Entry {
    unsigned virt, real;  // offsets in text_ of NUL-terminated prefixes
    unsigned virt_len, real_len;
  };
  long rewrite(const char* path, size_t len, char* out, size_t cap, bool to_real) const;
  // All initialised, so that a static PathMap is constant-initialised:
  // the plugin loads its map in a constructor that runs before dynamic
  // initialisers would.
  Entry entries_[kMaxEntries]{};
  size_t count_ = 0;
  char text_[kMaxText]{};
};

// One entry "VIRTUAL=REAL" of `len` bytes: where its two sides are (not
// NUL-terminated, trailing '/' dropped). No '\n' inside.
MapError parse_entry(const char* text, size_t len, const char** virt, size_t* virt_len, const char** real,
                     size_t* real_len);

}  // namespace ckpt::path
