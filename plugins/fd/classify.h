// What one descriptor is: its FdRecord data and its FdKind.
#pragma once

#include <stddef.h>

#include "holders.h"
#include "tree_sections.h"

namespace ckpt::fd {

// Fills what the descriptor alone tells: fd, flags, offset, stat data, path
// (readlink of /proc/self/fd/N) and pipe size. False if `fd` is not open.
bool describe_fd(int fd, image::FdRecord& r);

// Sets r.kind (and stdio_index, and strips " (deleted)" from a deleted
// file's path). `holders` has every descriptor of the computation, for the
// rule on pipes whose other end is outside it.
// FdKind::Lost means: not something this plugin can save.
void classify(image::FdRecord& r, HolderTable& holders);

// What a descriptor this plugin cannot save is, for messages: "an io_uring
// instance", "a UNIX stream socket", "a pseudo-terminal master", ...
void describe_kind(const image::FdRecord& r, char* out, size_t cap);

}  // namespace ckpt::fd
