#include "generations.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "atomic_file.h"
#include "restart_script.h"

#include "ckpt/image_names.h"
#include "image_format.h"

namespace ckpt::coord {

DirGenerations scan_generations(const std::string& dir) {
  DirGenerations found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    names::ImageName image;
    uint64_t generation = 0;
    if (names::parse_script_name(name.c_str(), &generation)) {
      std::ostringstream text;
      text << std::ifstream(it->path()).rdbuf();
      found.committed[generation] = restart_script_images(text.str());
    } else if (names::parse_image_name(name.c_str(), &image)) {
      generation = image.generation;
    }
    found.highest = std::max(found.highest, generation);
  }
  return found;
}

std::string image_parent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  image::FileHeader h{};
  if (!in.read(reinterpret_cast<char*>(&h), sizeof h)) return "";
  // No checksum here: a damaged header only keeps a file a little longer.
  if (std::memcmp(h.magic, image::kMagic, sizeof h.magic) != 0 || h.version != image::kFormatVersion ||
      !h.parent_generation)
    return "";
  const std::string name(h.parent_name, strnlen(h.parent_name, sizeof h.parent_name));
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return "";
  return (std::filesystem::path(path).parent_path() / name).string();
}

std::string generation_script_path(const std::string& dir, uint64_t generation) {
  char name[64];
  names::script_name(name, sizeof name, generation);
  return (std::filesystem::path(dir) / name).string();
}

std::string write_generation_scripts(const std::string& path, const std::string& latest_path,
                                     const std::string& text) {
  std::string error = write_file_atomically(path, text, 0755);
  if (error.empty()) {
    error = write_file_atomically(latest_path, text, 0755);
    if (!error.empty()) ::unlink(path.c_str());
  }
  return error;
}

}  // namespace ckpt::coord
