// What one descriptor is: its FdRecord data and its FdKind.
#pragma once

#include "holders.h"
#include "tree_sections.h"

namespace ckpt::fd {

// Fills what the descriptor alone tells: fd, flags, offset, stat data, path
// (readlink of /proc/self/fd/N) and pipe size. False if `fd` is not open.
bool describe_fd(int fd, image::FdRecord& r);

// Sets r.kind (and stdio_index, and strips " (deleted)" from a deleted
// file's path). `holders` has every descriptor of the computation, for the
// rule on pipes whose other end is outside it.
void classify(image::FdRecord& r, HolderTable& holders);

}  // namespace ckpt::fd
