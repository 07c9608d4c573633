// File contents in the image: a deleted file (it exists nowhere else) and
// files under the Replace or Substitute policy. Section "fdata.<desc_id as
// %016lx>" holds the bytes; only the description's leader (desc_id's upper
// half is its vpid, lower half its fd) writes it.
#pragma once

#include <stdint.h>

namespace ckpt::fd {

// Saves the whole file open as `fd` (with F_GETFL flags `status_flags`)
// without moving its offset. False if it could not be read or stored.
bool save_file_contents(int fd, uint32_t status_flags, uint64_t desc_id);

}  // namespace ckpt::fd
