// Will the program an exec starts load libckpt? The dynamic loader honours
// LD_PRELOAD only for dynamically linked programs of our own architecture,
// and ignores it in secure-execution mode (setuid/setgid to someone else,
// file capabilities). Such programs run outside the checkpoint.
//
// Plain system calls on a descriptor, no allocation: usable in a fork child
// right before exec.
#pragma once

namespace ckpt {

enum class ExecTarget {
  Checkpointable,  // dynamically linked x86-64 (or unknown: the exec decides)
  Static,          // no program interpreter (static or static-pie)
  Foreign,         // another ELF class or machine
  Secure,          // setuid/setgid to another user or group, or file capabilities
};

// Classifies the file open at `fd`, following "#!" interpreters.
ExecTarget classify_exec_target(int fd);
// The same for a path relative to dirfd (AT_FDCWD for the current directory).
ExecTarget classify_exec_path(int dirfd, const char* path);
// "is statically linked", "is not an x86-64 program", "is setuid or has file capabilities".
const char* describe_exec_target(ExecTarget t);

}  // namespace ckpt
