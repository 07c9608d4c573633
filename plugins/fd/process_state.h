// Per-process state that restart re-applies along with the descriptors:
// working directory, umask and resource limits.
#pragma once

#include "tree_sections.h"

namespace ckpt::fd {

// Fills cwd, umask and rlimits of `header`.
void save_process_state(image::FdSectionHeader& header);

}  // namespace ckpt::fd
