// The plugin's one table, for its wrappers (path_wrappers.cpp).
#pragma once

#include "path_map.h"

namespace ckpt::path {

// Empty unless a map is set: the wrappers' fast path checks only this.
const PathMap& process_map();

}  // namespace ckpt::path
