// The computation's standard streams: the files the root process had as
// fds 0, 1 and 2 when it was launched (the launching shell's terminal, pipes
// or redirections). A description of one of them is checkpointed as
// FdKind::Stdio and bound to ckpt_restart's own descriptor on restart.
//
// They are identified by (st_dev, st_ino) and passed down the process tree
// in the environment: CKPT_STDIO="DEV:INO,DEV:INO,DEV:INO", each number 16
// lower-case hex digits, 0:0 for a descriptor that was closed. The width is
// fixed so that the value can be rewritten in place after a restart.
#pragma once

#include <stdint.h>
#include "ckpt/environment.h"

namespace ckpt::fd {

inline constexpr char kStdioEnv[] = CKPT_ENV_STDIO;

// INIT: reads CKPT_STDIO, or, in the root process of a new computation (no
// CKPT_STDIO yet), records fds 0-2 and sets it for every descendant.
void stdio_init();

// Which standard stream (0-2) the file (dev, ino) is, preferring `fd` itself
// when it is one of them and matches; -1 if none.
int stdio_match(uint64_t dev, uint64_t ino, int fd);

// At checkpoint: descriptor `fd` was recorded as standard stream `index`.
// The binding is what stdio_after_restart() looks at.
void stdio_clear_bindings();
void stdio_bind(int index, int fd);

// After a restart the bound descriptors are ckpt_restart's streams: they
// become the computation's standard streams (here and in CKPT_STDIO, which
// children forked or exec'd from now on inherit).
void stdio_after_restart();

}  // namespace ckpt::fd
