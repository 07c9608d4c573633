// What a checkpoint directory holds, by generation (names: ckpt/image_names.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ckpt::coord {

struct DirGenerations {
  uint64_t highest = 0;  // the highest generation of any image, temporary file or script
  // Generations whose restart script (ckpt_restart_g<N>.sh) is there, with
  // the images it names.
  std::map<uint64_t, std::vector<std::string>> committed;
};

// An unreadable or missing directory holds nothing.
DirGenerations scan_generations(const std::string& dir);

// The parent of image `path` (an incremental image's, by its header: the
// path of the image it reads its other pages from), or "" for a full image
// or a file that is not a readable image.
std::string image_parent(const std::string& path);

// "<dir>/ckpt_restart_g<N>.sh"
std::string generation_script_path(const std::string& dir, uint64_t generation);

// Commits a generation: its script `text` atomically to `path`, then to
// `latest_path`. Returns the first error ("" on success); after an error
// neither file names this generation.
std::string write_generation_scripts(const std::string& path, const std::string& latest_path,
                                     const std::string& text);

}  // namespace ckpt::coord
