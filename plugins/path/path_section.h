// The path kind's image schema: section "path", in the image of a process
// that ran with a path map (absent: none).
//
//   PathSectionHeader
//   text_bytes bytes: the map as CKPT_PATH_MAP holds it, "VIRTUAL=REAL" per line
//
// Written by the plugin (path_plugin.cpp), read by the restart side
// (path_restart.cpp) and decoded for ckpt_info (path_schema.cpp).
#pragma once

#include <stdint.h>

namespace ckpt::path {

inline constexpr char kPathSection[] = "path";
inline constexpr uint32_t kPathSectionVersion = 1;

struct PathSectionHeader {
  uint32_t version;
  uint32_t text_bytes;
};

}  // namespace ckpt::path
