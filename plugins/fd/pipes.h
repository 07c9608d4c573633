// Bytes in flight in pipes and FIFOs (GUIDE §3.6). At DRAIN the process that
// leads a pipe's read side empties it into its own memory and into section
// "pipe.<ino>" of its image; at RESUME (the snapshot is taken) it writes the
// bytes back, so the application reads exactly what it would have read.
// After a restart ckpt_restart refills the new pipe from the section instead.
#pragma once

#include <stdint.h>

namespace ckpt::fd {

enum class DrainResult {
  Saved,     // bytes drained and saved in "pipe.<ino>"
  Empty,     // nothing was in the pipe
  Skipped,   // left alone: could not be refilled afterwards, or not readable
  Unsaved,   // drained (and refilled at RESUME) but the image had no room
};

// DRAIN: empties the pipe or FIFO `ino` through its read end `fd`.
DrainResult drain_pipe(int fd, uint64_t ino);

// RESUME: writes every drained pipe's bytes back, then forgets them.
void refill_pipes();

// RESTART: ckpt_restart refilled the pipes already; nothing to write back.
void forget_drained_pipes();

}  // namespace ckpt::fd
