// Reads and validates a checkpoint image. Used by ckpt_restart (before it
// touches its address space) and by ckpt_info. Ordinary C++: allocates freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image_format.h"

namespace ckpt::image {

struct Region {
  RegionRecord rec;
  std::vector<PageExtent> extents;  // the stored pages
  std::string path;
  uint64_t pages() const;         // of the whole region
  uint64_t stored_pages() const;  // rec.stored_size in pages
};

struct Section {
  std::string name;
  std::vector<uint8_t> data;
};

class ImageReader {
 public:
  ~ImageReader();

  // Opens and validates header, metadata and record structure (not region
  // data). Returns nullptr with `error` set to a one-line reason naming the
  // image and the problem, e.g. "image ckpt_x.ckpt: truncated (4096 of 81920 bytes)".
  static std::unique_ptr<ImageReader> open(const std::string& path, std::string& error);

  // Checks every region's data checksums. Reads the whole data area.
  bool verify_data(std::string& error) const;

  // Reads region `r`'s stored pages into dst (r.rec.end - r.rec.start bytes),
  // each at its offset, decompressing and checking checksums. The bytes of
  // pages not stored are left as they are: the caller supplies zeros (or,
  // for kRegionFileBacked, the file's bytes).
  bool read_region(const Region& r, void* dst, std::string& error) const;

  const std::string& path() const { return path_; }
  const FileHeader& header() const { return header_; }
  const ProcessRecord& process() const { return process_; }
  const std::vector<ThreadRecord>& threads() const { return threads_; }
  const std::vector<Region>& regions() const { return regions_; }
  const std::vector<Section>& sections() const { return sections_; }
  bool compressed() const { return header_.flags & kFileCompressed; }
  int fd() const { return fd_; }  // for mmap of uncompressed region data

 private:
  ImageReader() = default;
  std::string path_;
  int fd_ = -1;
  FileHeader header_{};
  ProcessRecord process_{};
  std::vector<ThreadRecord> threads_;
  std::vector<Region> regions_;
  std::vector<Section> sections_;
};

// The name of an ELF machine number ("x86-64", "aarch64", "unknown").
const char* arch_name(uint32_t machine);

}  // namespace ckpt::image
