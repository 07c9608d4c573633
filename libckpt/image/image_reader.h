// Reads and validates a checkpoint image. Used by ckpt_restart (before it
// touches its address space) and by ckpt_info. Ordinary C++: allocates freely.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "image_format.h"

namespace ckpt::image {

struct Region {
  RegionRecord rec;
  std::vector<PageExtent> extents;  // the stored pages
  std::vector<PageExtent> inherited;  // the pages read from the parent image (incremental images)
  std::vector<ChunkHeader> chunks;    // the chunk index: the metadata's copy of the blob's chunk headers
  std::string path;
  uint64_t pages() const;         // of the whole region
  uint64_t stored_pages() const;  // rec.stored_size in pages
  uint64_t inherited_pages() const;
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
  // An incremental image opens its parent (FileHeader.parent_name, in the
  // same directory) the same way, and that one its own, checking that each
  // is the image it names (identity, process, generation).
  static std::unique_ptr<ImageReader> open(const std::string& path, std::string& error);

  // Checks every region's data checksums, the parents' too. Reads the whole
  // data area of each.
  bool verify_data(std::string& error) const;

  // Reads region `r`'s stored pages into dst (r.rec.end - r.rec.start bytes),
  // each at its offset, decompressing and checking checksums, and its
  // inherited pages from the parent chain. The bytes of pages neither stored
  // nor inherited are left as they are: the caller supplies zeros (or, for
  // kRegionFileBacked, the file's bytes).
  bool read_region(const Region& r, void* dst, std::string& error) const;

  // A region's chunks in stream order (the stream is its stored pages back
  // to back, extent after extent), from the chunk index (no read of the
  // file), for reading them one by one: the lazy restart loads a chunk when
  // a page of it is first needed.
  struct Chunk {
    uint64_t file_offset;  // of its stored bytes
    uint64_t raw_offset;   // in the stream
    ChunkHeader header;
  };
  bool chunks(const Region& r, std::vector<Chunk>& out, std::string& error) const;
  // Reads chunk `c` of region `r`, checks its header against the index and
  // its checksum, and decompresses it into raw (c.header.raw_size bytes);
  // `stored` is scratch. With `between`, the chunk is read from the file in
  // pieces (512 KiB) and `between` is called after each but the last (the
  // lazy page server serves faults there: a 4 MiB read is long to wait).
  bool read_chunk(const Region& r, const Chunk& c, char* raw, std::vector<char>& stored, std::string& error,
                  const std::function<void()>& between = {}) const;

  // The parent image (FileHeader.parent_generation), or null for a full one.
  const ImageReader* parent() const { return parent_.get(); }
  bool incremental() const { return header_.parent_generation != 0; }

  const std::string& path() const { return path_; }
  const FileHeader& header() const { return header_; }
  const ProcessRecord& process() const { return process_; }
  const std::vector<ThreadRecord>& threads() const { return threads_; }
  const std::vector<Region>& regions() const { return regions_; }
  const std::vector<Section>& sections() const { return sections_; }
  bool compressed() const { return header_.flags & kFileCompressed; }
  int fd() const { return fd_; }  // the image file, open for reading

 private:
  ImageReader() = default;
  static std::unique_ptr<ImageReader> open_chain(const std::string& path, std::string& error, uint32_t depth);
  bool open_parent(uint32_t depth, std::string& error);
  // Puts this image's bytes at the addresses of `want` (sorted, disjoint
  // address runs) into dst, which holds address `base`.
  bool read_inherited(const std::vector<PageExtent>& want, uint64_t base, char* dst, std::string& error) const;
  std::unique_ptr<ImageReader> parent_;
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
