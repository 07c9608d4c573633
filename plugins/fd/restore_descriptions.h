// The fd kind's restart side: descriptors, working directory, umask and
// rlimits of restarted processes,
// from their images' "fds" sections (tree_sections.h, written by plugins/fd).
//
// ckpt_restart creates every open file description once, in itself, at
// "transport" numbers above every saved descriptor number, before it forks
// the tree: each process inherits them all, dup2s its own to their saved
// numbers and closes the rest. A description shared after fork or dup is so
// shared again (one offset), and both ends of a pipe are one pipe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "image_reader.h"
#include "ckpt/restart_paths.h"
#include "tree_sections.h"

namespace ckpt {

// One process's saved descriptor state.
struct ProcessFds {
  image::FdSectionHeader header{};
  std::vector<image::FdRecord> records;
  std::string cwd;  // as saved (the section's, else the process record's)
};

// Reads the "fds" section (throws RestartError on a missing or malformed one).
ProcessFds read_process_fds(const image::ImageReader& img);

// The highest descriptor number any process had (at least 2).
int highest_saved_fd(const std::vector<ProcessFds>& processes);

class DescriptionSet {
 public:
  DescriptionSet() = default;
  DescriptionSet(const DescriptionSet&) = delete;
  DescriptionSet& operator=(const DescriptionSet&) = delete;

  // Creates every description of every process at numbers >= floor. A file
  // that cannot be reopened throws RestartError with the one line
  // "cannot reopen PATH for process VPID (PROG): REASON".
  void create(const std::vector<const image::ImageReader*>& images, const std::vector<ProcessFds>& processes,
              const std::vector<int32_t>& vpids, const PathRewriter& paths, int floor,
              const std::vector<int>& inherited);

  // In a forked process: puts its descriptors at their saved numbers, closes
  // every other descriptor except `keep` (which must lie at or above the
  // floor), then restores cwd, umask and rlimits. Throws RestartError.
  void install(const ProcessFds& fds, const PathRewriter& paths, const std::vector<int32_t>& keep) const;

  // ckpt_restart's own copies, once every child has inherited them.
  void close_all();

 private:
  int transport_fd(const image::FdRecord& rec) const;  // -1: leave the number closed

  std::map<uint64_t, int> by_desc_;  // desc_id -> transport fd
  int stdio_[3] = {-1, -1, -1};      // ckpt_restart's own stdin/stdout/stderr
  int terminal_ = -1;                // ckpt_restart's terminal, for Tty records (-1: none)
  std::vector<int> all_;
};

}  // namespace ckpt
