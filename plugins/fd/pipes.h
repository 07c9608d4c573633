// Bytes in flight in pipes and FIFOs (GUIDE §3.6). At DRAIN the process that
// leads a pipe's read side copies the bytes the pipe holds into section
// "pipe.<ino>" of its image; ckpt_restart puts them into the new pipe.
//
// The copy is taken with tee(2), which duplicates a pipe's buffers without
// consuming them: the pipe keeps its bytes and the checkpointed computation
// goes on as if nothing happened, with nothing to put back and no race
// between one process refilling a pipe and another already writing to it.
// Only when tee cannot take everything (the copy pipe cannot be made as
// large) are the bytes read out and written back at RESUME.
#pragma once

#include <stdint.h>

namespace ckpt::fd {

enum class DrainResult {
  Saved,     // the bytes are in section "pipe.<ino>"
  Empty,     // nothing was in the pipe
  Skipped,   // left alone: not readable, or could not be put back afterwards
  Unsaved,   // the image had no room for them (the pipe keeps them, or gets them back at RESUME)
};

// DRAIN: saves the bytes in the pipe or FIFO `ino`, read through `fd`.
DrainResult drain_pipe(int fd, uint64_t ino);

// RESUME: writes back the bytes that had to be read out, then forgets them.
void refill_pipes();

// RESTART: ckpt_restart refilled the pipes already; nothing to write back.
void forget_drained_pipes();

}  // namespace ckpt::fd
