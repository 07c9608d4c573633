// Image sections that describe a process's place in the computation and its
// kernel objects: written by plugins/pid and plugins/fd at checkpoint time,
// read by ckpt_restart to rebuild the process tree and its descriptors.
//
// Every struct is plain data with a version first; a reader that meets an
// unknown version refuses the image with a clear message.
#pragma once

#include <stdint.h>

namespace ckpt::image {

// ---------------------------------------------------------------------------
// Section "pid" (plugins/pid): one per image.

inline constexpr char kPidSection[] = "pid";
inline constexpr uint32_t kPidSectionVersion = 1;
inline constexpr uint32_t kMaxZombies = 256;

// A child that had exited but was not yet reaped at checkpoint time. Restart
// recreates it as a child that exits with the same status, so the parent can
// still wait for it.
struct ZombieRecord {
  int32_t vpid;
  int32_t wait_status;  // as waitpid() reports it (WIFEXITED/WIFSIGNALED ...)
  int32_t vpgid;
  int32_t reserved;
};

struct PidSection {
  uint32_t version;
  int32_t vpid;   // virtual pid of this process
  int32_t vppid;  // virtual pid of its parent; a pid outside the computation if the parent is not ours
  int32_t vpgid;  // virtual process group (a pid outside the computation if the group leader is not ours)
  int32_t vsid;   // virtual session id (same rule)
  int32_t real_pid;  // kernel pid at checkpoint time
  uint32_t zombie_count;
  uint32_t reserved;
  char pidtable_path[512];  // the shared pid table file this process maps (MAP_SHARED)
  ZombieRecord zombies[kMaxZombies];  // first zombie_count are valid
};

// ---------------------------------------------------------------------------
// Section "fds" (plugins/fd): one per image. FdSectionHeader, then `count`
// FdRecords.

inline constexpr char kFdSection[] = "fds";
inline constexpr uint32_t kFdSectionVersion = 1;
inline constexpr uint32_t kRlimitCount = 16;  // RLIMIT_CPU .. RLIMIT_RTTIME

enum class FdKind : uint32_t {
  File = 1,        // regular file, reopened by path
  Directory = 2,   // reopened by path
  Deleted = 3,     // regular file unlinked while open: contents saved, restored as an unlinked file
  Pipe = 4,        // anonymous pipe end; `ino` names the pipe
  Fifo = 5,        // named FIFO end, reopened by path
  Device = 6,      // /dev/null, /dev/zero, /dev/urandom, /dev/random, /dev/full: reopened by path
  Tty = 7,         // a terminal: bound to ckpt_restart's terminal
  Stdio = 8,       // a description the computation inherited from outside (the launching shell's
                   // stdin/stdout/stderr, or a pipe whose other end is outside): bound to
                   // ckpt_restart's descriptor `stdio_index`
  Elsewhere = 9,   // saved and restored by another plugin (ckpt_claim_fd): ckpt_restart leaves
                   // the number to it
  Lost = 10,       // nothing could save it and the user accepted the loss (CKPT_ACCEPT_LOSS): a
                   // placeholder whose reads see end-of-file and whose writes fail with EPIPE;
                   // `path` says what it was ("socket:[..]", "anon_inode:[io_uring]", ...)
  Inherited = 11,  // a pipe above fd 2 whose other end is outside the computation (one the
                   // launcher's parent passed or leaked: a jobserver's, a batch system's): bound
                   // to ckpt_restart's own descriptor of that number if it inherited one, else a
                   // placeholder as for Lost
};

// What restart does with a file (IRIX CPR's policies); chosen per path glob.
enum class FilePolicy : uint32_t {
  Merge = 0,       // reopen the path and seek to the saved offset (default)
  Ignore = 1,      // reopen at offset 0
  Append = 2,      // reopen at the end of the file
  Replace = 3,     // the image holds a copy; restart writes it back over the file, then reopens
  Substitute = 4,  // the image holds a copy; restart opens a private copy and leaves the file alone
};

struct FdRecord {
  int32_t fd;
  uint32_t fd_flags;      // F_GETFD (FD_CLOEXEC)
  uint32_t status_flags;  // F_GETFL: access mode, O_APPEND, O_NONBLOCK, ...
  FdKind kind;
  // Equal in every image whose process shares this open file description
  // (after fork, dup, SCM_RIGHTS): (vpid << 32 | fd) of the holder with the
  // lowest (vpid, fd). Restart creates one description per desc_id.
  uint64_t desc_id;
  int64_t offset;   // lseek(fd, 0, SEEK_CUR) at checkpoint; -1 if not seekable
  uint64_t size;    // st_size at checkpoint (regular files)
  uint64_t dev;     // st_dev
  uint64_t ino;     // st_ino (pipes: the pipe's inode, as in "pipe:[ino]")
  uint32_t mode;    // st_mode
  FilePolicy policy;
  uint32_t stdio_index;   // Stdio: 0, 1 or 2
  uint32_t pipe_size;     // F_GETPIPE_SZ, pipes and FIFOs
  uint32_t has_contents;  // a section "fdata.<desc_id as %016lx>" holds the file's bytes
                          // (Deleted, Replace, Substitute); written by the image of the
                          // process named in desc_id's upper half
  uint32_t has_drained;   // this image holds section "pipe.<ino>": bytes drained from the pipe
                          // (or FIFO) at checkpoint, to be written back before anyone runs
  char path[4096];        // readlink("/proc/self/fd/N"); Deleted: without " (deleted)"
};

struct FdSectionHeader {
  uint32_t version;
  uint32_t count;  // FdRecords that follow
  uint32_t umask;
  uint32_t reserved;
  struct {
    uint64_t cur, max;
  } rlimits[kRlimitCount];
  char cwd[4096];
};

// ---------------------------------------------------------------------------
// Sections "fdata.<desc_id as %016lx>" (plugins/fd): the bytes of a file whose
// description has has_contents set, saved by the image of the process named in
// desc_id's upper half. Plain bytes, no header.
inline constexpr char kFileContentsPrefix[] = "fdata.";

// Sections "pipe.<ino in decimal>" (plugins/fd): bytes drained from a pipe or
// FIFO at checkpoint, in the image whose FdRecord for it has has_drained set.
// Plain bytes, no header.
inline constexpr char kPipeBytesPrefix[] = "pipe.";

}  // namespace ckpt::image
