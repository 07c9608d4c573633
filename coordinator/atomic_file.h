// Replacing a file so that readers see either the old or the new content,
// even across a crash (GUIDE §3.7): temp file in the same directory, fsync,
// rename, fsync the directory.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

namespace ckpt::coord {

// Returns an empty string on success, else a one-line reason such as
// "write /dir/x: No space left on device". The previous file, if any, is
// left untouched on failure.
std::string write_file_atomically(const std::string& path, std::string_view content, mode_t mode);

}  // namespace ckpt::coord
