// Writes one checkpoint image. Safe to use where nothing may allocate or take
// a lock: in the forked snapshot child, with the application's threads frozen
// (GUIDE §3.1). It uses only raw system calls, mmap-backed buffers and lz4.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "image_format.h"
#include "direct_writer.h"
#include "parallel_compressor.h"

namespace ckpt::image {

class ImageWriter {
 public:
  ImageWriter() = default;
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;
  ~ImageWriter();

  // Creates a temporary file next to final_path. On failure returns false and
  // leaves a one-line reason in error(). A compressed image is compressed on
  // compress_threads(compress_threads) worker threads while this thread
  // copies and writes (1: all in this thread; 0: one per CPU, see
  // parallel_compressor.h); the image is the same either way. If the
  // workers cannot be started, this thread compresses. Without `durable`
  // the image is left in the page cache (no fsync of it or its directory,
  // as DMTCP does): a crash of the machine may then lose it, and the
  // previous image it replaced.
  bool open(const char* final_path, bool compress, int compress_threads = 1, bool durable = true);

  // Appends a Process or Thread record; `size` must be the struct's size.
  // An image needs exactly one Process record, whose thread_count equals the
  // number of Thread records (commit() checks both).
  bool add_record(RecordType type, const void* payload, uint32_t size);
  // A plugin's saved state; name is 1-31 bytes.
  bool add_section(const char* name, const void* data, uint32_t size);

  // Writes `region` with all its bytes, those at `data` (region-sized), or as
  // having no saved bytes at all (kRegionNoData) when data == nullptr. The
  // bytes are copied piece by piece into a private buffer that is
  // checksummed and written, so that bytes changing meanwhile (the live
  // memory of the writing process) cannot break the checksum. path may be
  // nullptr (stored as path_len 0).
  bool add_region(const RegionRecord& region, const char* path, const void* data);

  // The same, a page run at a time: begin_region(), then add_pages() for
  // each run of pages to store, in address order, then end_region(). The
  // pages not added are not stored: zero at restart, or the file's with
  // kRegionFileBacked. data_offset/data_size/stored_size/crc/path_len/
  // extent_count are filled in here. `path` must stay valid until
  // end_region().
  bool begin_region(const RegionRecord& region, const char* path);
  // `size` bytes at `src`, which become the region's bytes at `offset`
  // from its start (page-aligned, after every run added before). They are
  // copied before they are checksummed, unless `stable` says they cannot
  // change until commit() or abort(): then whole chunks are compressed (or
  // written) where they are.
  bool add_pages(uint64_t offset, const void* src, uint64_t size, bool stable = false);
  // Incremental images: the pages [offset, offset + size) of the region
  // come from the parent image (set_lineage). Any order against
  // add_pages(), but in address order among themselves, never overlapping
  // stored pages.
  bool add_inherited(uint64_t offset, uint64_t size);
  bool end_region();

  // The header's lineage (FileHeader.image_id ... parent_name), after
  // open(). Without a call the image is full (mode FullFirst) with a random
  // image_id; `image_id` must not be 0. FileHeader.generation is always the
  // Process record's.
  void set_lineage(uint64_t image_id, uint64_t generation, CheckpointMode mode, uint64_t parent_generation,
                   uint64_t parent_id, const char* parent_name);

  // Writes metadata and header, fsyncs, renames over final_path, fsyncs the
  // directory (the fsyncs only if durable). After a failure the temporary file is removed and the
  // previous image at final_path is untouched. The rename is the commit
  // point: if only the directory fsync after it fails, commit() returns
  // false but the new image is in place.
  bool commit();
  // Drops the image being written (also done by the destructor). Any failing
  // call aborts too; error() keeps the first failure's reason.
  void abort();

  const char* error() const { return error_; }
  // Compression threads at work since open(): 0 when not compressing or
  // compressing in this thread.
  int compress_workers() const { return compress_workers_; }
  // Whether region data goes to the disk with O_DIRECT, on a thread of its
  // own (durable images, where the file system allows it).
  bool direct_io() const { return direct_fd_ >= 0; }
  uint64_t bytes_written() const { return offset_; }
  // The raw bytes of the pages stored so far (the ended regions'), and the
  // same as stored in the file (chunks with their headers; compressed: lz4 blocks).
  uint64_t pages_raw_bytes() const { return pages_raw_; }
  uint64_t pages_stored_bytes() const { return pages_stored_; }

 private:
  // Sets error() to "<what> <path>: <reason or strerror(err)>" and aborts.
  bool fail(const char* what, const char* path, int err, const char* reason = nullptr);
  bool write_at(uint64_t off, const void* buf, size_t len);
  // Region data, at strictly increasing offsets: through direct_ when it
  // runs (see open()), else write_at().
  bool write_data(uint64_t off, const void* buf, size_t len);
  // Writes the pending bytes of copy_ (copy_fill_ of them) to the region's
  // blob, or hands them to the compression workers.
  bool flush_copy();
  // The same for `raw_size` bytes at `bytes` (copy_, or stable bytes).
  bool put_chunk(const char* bytes, uint32_t raw_size);
  // Asks the kernel to start writing the region data written so far.
  void start_writeback();
  // Writes a chunk (compressed or stored) at the end of the region's blob.
  bool write_chunk(const CompressedChunk& c);
  // Writes the chunks the workers finished, in order; with `all`, waits for
  // every chunk handed over, else only for room to hand over the next.
  bool write_compressed(bool all);
  bool meta_append(const void* buf, size_t len);
  bool begin_record(RecordType type, uint32_t size);
  bool end_record(uint32_t size);
  void release_buffers();

  int fd_ = -1;
  // Durable images write their region data with O_DIRECT through a second
  // descriptor of the same file, on direct_'s thread (direct_writer.h).
  // The header and metadata go through fd_, and fsync(fd_) makes both
  // durable.
  int direct_fd_ = -1;
  DirectWriter direct_;
  bool compress_ = false;
  bool durable_ = true;
  uint32_t page_size_ = 0;
  uint64_t offset_ = 0;  // next free byte for region data
  uint64_t writeback_from_ = 0;  // where the data not yet handed to start_writeback() begins
  uint32_t process_records_ = 0;
  uint32_t thread_records_ = 0;
  uint64_t pages_raw_ = 0;
  uint64_t pages_stored_ = 0;
  size_t process_off_ = 0;  // where the Process payload sits in meta_
  char final_path_[4096] = {};
  char tmp_path_[4200] = {};
  char error_[512] = {};
  // metadata accumulates in an mmap'd, mremap-grown buffer
  char* meta_ = nullptr;
  size_t meta_size_ = 0;
  size_t meta_cap_ = 0;
  // a private copy of the region bytes being written (mmap'd, kChunkSize):
  // the next chunk of the region's stored stream
  char* copy_ = nullptr;
  size_t copy_fill_ = 0;
  // the region between begin_region() and end_region()
  bool in_region_ = false;
  RegionRecord rec_{};
  const char* rec_path_ = nullptr;
  uint64_t blob_start_ = 0;  // where the region's blob begins in the file
  uint64_t blob_size_ = 0;   // bytes of it written so far
  // its extents, in an mmap'd, mremap-grown buffer
  PageExtent* ext_ = nullptr;
  size_t ext_count_ = 0;
  size_t ext_cap_ = 0;  // bytes
  // its inherited extents, the same way
  PageExtent* inh_ = nullptr;
  size_t inh_count_ = 0;
  size_t inh_cap_ = 0;  // bytes
  // the headers of its chunks written so far (RegionRecord.chunk_count), the same way
  ChunkHeader* chk_ = nullptr;
  size_t chk_count_ = 0;
  size_t chk_cap_ = 0;  // bytes
  // set_lineage()
  FileHeader lineage_{};
  // lz4 state, then the output ChunkHeader + block (mmap'd), for
  // compressing in this thread
  char* zbuf_ = nullptr;
  size_t zbuf_cap_ = 0;
  // The header of the uncompressed chunk being written.
  ChunkHeader raw_head_{};
  // Or the workers, whose chunk buffers copy_ then points into.
  ParallelCompressor workers_;
  int compress_workers_ = 0;
};

}  // namespace ckpt::image
