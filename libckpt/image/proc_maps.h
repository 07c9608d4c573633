// Parses /proc/<pid>/maps. Async-signal-safe: reads with raw syscalls into a
// caller-supplied array; no allocation.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "image_format.h"

namespace ckpt {

struct MapEntry {
  uint64_t start;
  uint64_t end;
  uint64_t offset;
  uint32_t prot;     // PROT_READ | PROT_WRITE | PROT_EXEC
  bool shared;       // 's' in the perms column, else private
  uint32_t dev_major, dev_minor;
  uint64_t inode;
  char path[image::kMaxRegionPath];  // "" for anonymous; "[heap]", "[stack]", "[vdso]", ... as the kernel prints
  bool path_deleted; // the kernel appended " (deleted)" (stripped from path)
};

// Parses one line (without or with its trailing '\n'). Returns false if malformed.
bool parse_maps_line(const char* line, size_t len, MapEntry& out);

// Reads /proc/self/maps (pid == 0) or /proc/<pid>/maps into out[0..max).
// Returns the number of entries, or -errno on failure (-ENOSPC if more than max).
long read_proc_maps(int pid, MapEntry* out, size_t max);

}  // namespace ckpt
