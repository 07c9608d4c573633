// The checkpoint of this process's descriptors (section "fds" of
// tree_sections.h), run at DRAIN while every process of the computation is
// frozen.
#pragma once

#include "file_policy.h"

namespace ckpt::fd {

// Describes every descriptor of this process but libckpt's own, saves
// section "fds", saves file contents ("fdata.*") where this process leads a
// description that needs them, and drains the pipes it leads ("pipe.*",
// put back by refill_pipes()).
void checkpoint_descriptors(const PolicyTable& policies);

}  // namespace ckpt::fd
