// The environment a program exec'ed inside a computation gets: whatever the
// caller passed, plus LD_PRELOAD (naming libckpt) and every CKPT_* variable
// the computation runs with, even if the caller cleared or rewrote its
// environment. Values come from the current environ if it still has them,
// else from a snapshot taken when libckpt started in this process.
//
// No malloc: the exec may run in a fork child of a multithreaded process or
// from a signal handler. The builder keeps everything in one mmap'ed block.
#pragma once

#include <stddef.h>

namespace ckpt {

// Variables only one exec carries (the hand-over to the new program); never
// copied from environ or the snapshot.
inline constexpr char kCoordFdVar[] = "CKPT_COORD_FD";
inline constexpr char kExecStateVar[] = "CKPT_EXEC_STATE";

// At start-up (constructor), before the application can touch environ.
// `libckpt_path` is this library's file, put into LD_PRELOAD when missing.
void snapshot_exec_environment(const char* libckpt_path);

class ExecEnv {
 public:
  ExecEnv() = default;
  ExecEnv(const ExecEnv&) = delete;
  ExecEnv& operator=(const ExecEnv&) = delete;
  ~ExecEnv();

  // Starts from `envp` (the caller's, possibly null or empty). `extra` holds
  // NAME=value entries that override (the hand-over variables). Returns the
  // new vector, or null if memory ran out (errno set).
  char* const* build(char* const* envp, const char* const* extra, int extra_count);
  // For a program that runs outside the computation (the remote shell,
  // remote_shell.h): `envp` without the CKPT_* variables (but the log's,
  // CKPT_LOG and CKPT_LOG_DIR, for a remote shell that passes them on) and
  // without libckpt in LD_PRELOAD. Null if memory ran out (errno set).
  char* const* build_outside(char* const* envp);

 private:
  // The one block: `slots` pointers, then `text` bytes. False (ENOMEM) if
  // it cannot be mapped.
  bool map_block(size_t slots, size_t text);
  void* block_ = nullptr;
  size_t block_len_ = 0;
};

}  // namespace ckpt
