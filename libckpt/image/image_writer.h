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

  // Appends a Process or Thread record; `size` must be the struct's size.
  // An image needs exactly one Process record, whose thread_count equals the
  // number of Thread records (commit() checks both).
  bool add_record(RecordType type, const void* payload, uint32_t size);
  // A plugin's saved state; name is 1-31 bytes.
  bool add_section(const char* name, const void* data, uint32_t size);

  // Writes `region` with the bytes at region.start (if data != nullptr) and
  // records it. data_offset/data_size/crc/path_len are filled in here, and
  // kRegionNoData is set exactly when data == nullptr. `data` is normally the
  // live region itself, so it must be readable for the whole region; it is
  // copied chunk by chunk into a private buffer that is checksummed and
  // written, so that bytes changing meanwhile cannot break the checksum.
  // path may be nullptr (stored as path_len 0).
  //
  // Source::FileMapping is for bytes of a mapped file: pages that lie wholly
  // past the file's end (or whose file went away) fault with SIGBUS on
  // access, so they are read through process_vm_readv, which reports the
  // fault instead of raising it, and saved as zeros. Such a page can never
  // have been read or written by the program (it would have died), so no
  // state of the program is lost; after a restart the page reads as zeros.
  enum class Source { Memory, FileMapping };
  bool add_region(const RegionRecord& region, const char* path, const void* data, Source source = Source::Memory);

  // Writes metadata and header, fsyncs, renames over final_path, fsyncs the
  // directory. After a failure the temporary file is removed and the
  // previous image at final_path is untouched. The rename is the commit
  // point: if only the directory fsync after it fails, commit() returns
  // false but the new image is in place.
  bool commit();
  // Drops the image being written (also done by the destructor). Any failing
  // call aborts too; error() keeps the first failure's reason.
  void abort();

  const char* error() const { return error_; }
  uint64_t bytes_written() const { return offset_; }

 private:
  // Sets error() to "<what> <path>: <reason or strerror(err)>" and aborts.
  bool fail(const char* what, const char* path, int err, const char* reason = nullptr);
  bool write_at(uint64_t off, const void* buf, size_t len);
  bool write_raw(RegionRecord& rec, const void* data, Source source);
  bool write_compressed(RegionRecord& rec, const void* data, Source source);
  // Copies `len` bytes at `src` into copy_ (see Source).
  void copy_in(const char* src, size_t len, Source source);
  bool meta_append(const void* buf, size_t len);
  bool begin_record(RecordType type, uint32_t size);
  bool end_record(uint32_t size);
  void release_buffers();

  int fd_ = -1;
  bool compress_ = false;
  uint32_t page_size_ = 0;
  uint64_t offset_ = 0;  // next free byte for region data
  uint32_t process_records_ = 0;
  uint32_t thread_records_ = 0;
  size_t process_off_ = 0;  // where the Process payload sits in meta_
  char final_path_[4096] = {};
  char tmp_path_[4200] = {};
  char error_[512] = {};
  // metadata accumulates in an mmap'd, mremap-grown buffer
  char* meta_ = nullptr;
  size_t meta_size_ = 0;
  size_t meta_cap_ = 0;
  // a private copy of the region bytes being written (mmap'd, kChunkSize)
  char* copy_ = nullptr;
  // lz4 state, then the output ChunkHeader + block (mmap'd)
  char* zbuf_ = nullptr;
  size_t zbuf_cap_ = 0;
};

}  // namespace ckpt::image
