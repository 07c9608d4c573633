// Writes one checkpoint image. Safe to use where nothing may allocate or take
// a lock: in the forked snapshot child, with the application's threads frozen
// (GUIDE §3.1). It uses only raw system calls, mmap-backed buffers and lz4.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "image_format.h"

namespace ckpt::image {

class ImageWriter {
 public:
  ImageWriter() = default;
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;
  ~ImageWriter();

  // Creates a temporary file next to final_path. On failure returns false and
  // leaves a one-line reason in error().
  bool open(const char* final_path, bool compress);

  // Appends a metadata record (Process, Thread, Section payloads).
  bool add_record(RecordType type, const void* payload, uint32_t size);
  bool add_section(const char* name, const void* data, uint32_t size);

  // Writes `region` with the bytes at region.start (if data != nullptr) and
  // records it. data_offset/data_size/crc/path_len are filled in here.
  bool add_region(const RegionRecord& region, const char* path, const void* data);

  // Writes metadata and header, fsyncs, renames over final_path, fsyncs the
  // directory. After a failure the temporary file is removed and the
  // previous image at final_path is untouched.
  bool commit();
  void abort();

  const char* error() const { return error_; }
  uint64_t bytes_written() const { return offset_; }

 private:
  bool fail(const char* what, int err);
  bool write_at(uint64_t off, const void* buf, size_t len);
  bool meta_append(const void* buf, size_t len);

  int fd_ = -1;
  bool compress_ = false;
  uint64_t offset_ = 0;  // next free byte for region data
  char final_path_[4096] = {};
  char tmp_path_[4200] = {};
  char error_[512] = {};
  // metadata accumulates in an mmap'd, mremap-grown buffer
  char* meta_ = nullptr;
  size_t meta_size_ = 0;
  size_t meta_cap_ = 0;
  // lz4 output buffer (mmap'd)
  char* zbuf_ = nullptr;
  size_t zbuf_cap_ = 0;
};

}  // namespace ckpt::image
