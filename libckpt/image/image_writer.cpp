// The image writer. It runs in the snapshot child with the application's
// threads frozen (GUIDE §3.1), so everything here is async-signal-safe: raw
// system calls, mmap-backed buffers, lz4 with a caller-provided state, and
// error text assembled by hand from strerrordesc_np's static strings.
#include "image_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>  // rename() only: a plain system call, async-signal-safe
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crc32c.h"

namespace ckpt::image {
namespace {

// One pwrite never exceeds this (Linux caps a single write at 2 GiB - 4 KiB).
constexpr size_t kMaxWrite = 1u << 30;
constexpr size_t kInitialMeta = 64u << 10;
// Region data is handed to the disk every this many bytes (see
// start_writeback).
constexpr uint64_t kWritebackStep = 32u << 20;

// Bounded string building without allocation or locale (snprintf is not
// async-signal-safe). Always NUL-terminates; silently truncates at capacity.
class Appender {
 public:
  Appender(char* buf, size_t cap) : buf_(buf), cap_(cap) { buf_[0] = '\0'; }

  Appender& str(const char* s) {
    while (*s && len_ + 1 < cap_) buf_[len_++] = *s++;
    buf_[len_] = '\0';
    return *this;
  }

  Appender& hex(uint64_t v) {
    char digits[19] = "0x";
    int n = 16;
    while (n > 1 && !(v >> (4 * (n - 1)))) n--;
    for (int i = 0; i < n; i++) digits[2 + i] = "0123456789abcdef"[(v >> (4 * (n - 1 - i))) & 0xf];
    digits[2 + n] = '\0';
    return str(digits);
  }

  Appender& dec(uint64_t v) {
    char digits[21];
    int n = sizeof(digits) - 1;
    digits[n] = '\0';
    do {
      digits[--n] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    return str(digits + n);
  }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

void* map_buffer(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// Makes an mmap'd buffer of `cap` bytes hold at least `need` (doubling).
bool grow_buffer(char*& buf, size_t& cap, size_t need) {
  if (need <= cap) return true;
  size_t want = cap * 2;
  while (want < need) want *= 2;
  void* p = mremap(buf, cap, want, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) return false;
  buf = static_cast<char*>(p);
  cap = want;
  return true;
}

}  // namespace

ImageWriter::~ImageWriter() { abort(); }

bool ImageWriter::fail(const char* what, const char* path, int err, const char* reason) {
  if (error_[0] == '\0') {  // keep the first cause: later failures are consequences
    Appender a(error_, sizeof(error_));
    a.str(what).str(" ").str(path).str(": ");
    const char* desc = reason ? reason : strerrordesc_np(err);
    if (desc) a.str(desc);
    else a.str("error ").dec(err);
  }
  abort();
  return false;
}

bool ImageWriter::open(const char* final_path, bool compress, int compress_threads, bool durable) {
  abort();
  error_[0] = '\0';
  size_t len = strlen(final_path);
  if (len == 0 || len + 1 > sizeof(final_path_)) return fail("open", "image", 0, "path empty or too long");
  memcpy(final_path_, final_path, len + 1);
  Appender(tmp_path_, sizeof(tmp_path_)).str(final_path).str(".tmp.").dec(getpid());

  compress_ = compress;
  durable_ = durable;
  page_size_ = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  offset_ = kHeaderSize;
  writeback_from_ = 0;
  process_records_ = 0;
  thread_records_ = 0;
  pages_raw_ = pages_stored_ = 0;
  process_off_ = 0;

  meta_ = static_cast<char*>(map_buffer(kInitialMeta));
  if (!meta_) return fail("allocate metadata buffer for", tmp_path_, errno);
  meta_cap_ = kInitialMeta;
  meta_size_ = 0;
  ext_cap_ = 4096;
  ext_ = static_cast<PageExtent*>(map_buffer(ext_cap_));
  if (!ext_) return fail("allocate extent buffer for", tmp_path_, errno);
  // An identity of its own until set_lineage() says otherwise: random, so
  // that another image written under a parent's name is told apart.
  lineage_ = FileHeader{};
  while (!lineage_.image_id)
    if (syscall(SYS_getrandom, &lineage_.image_id, sizeof lineage_.image_id, 0) != sizeof lineage_.image_id)
      return fail("make an identity for", tmp_path_, errno);
  inh_cap_ = 4096;
  inh_ = static_cast<PageExtent*>(map_buffer(inh_cap_));
  if (!inh_) return fail("allocate extent buffer for", tmp_path_, errno);
  chk_cap_ = 4096;
  chk_ = static_cast<ChunkHeader*>(map_buffer(chk_cap_));
  if (!chk_) return fail("allocate chunk index buffer for", tmp_path_, errno);
  in_region_ = false;
  // Region bytes are copied to copy_ before they are checksummed and
  // written: the process writing the image is a copy of the one
  // checkpointed and still runs in some of the memory it saves (its stack,
  // its TLS), so the live bytes may change between two reads of them. With
  // compression workers the copy goes straight into their chunk buffers
  // (copy_ moves on with each chunk).
  compress_workers_ = 0;
  const int workers = compress ? ckpt::image::compress_threads(compress_threads) : 1;
  if (workers > 1 && workers_.start(workers) == 0) {
    compress_workers_ = workers;
    copy_ = workers_.input();
  } else {
    copy_ = static_cast<char*>(map_buffer(kChunkSize));
    if (!copy_) return fail("allocate copy buffer for", tmp_path_, errno);
  }
  if (compress && !compress_workers_) {
    size_t cap = chunk_state_size() + chunk_out_capacity();
    zbuf_ = static_cast<char*>(map_buffer(cap));
    if (!zbuf_) return fail("allocate compression buffer for", tmp_path_, errno);
    zbuf_cap_ = cap;
  }

  // A stale temporary of an earlier writer with our pid would otherwise keep
  // its owner and mode through O_TRUNC: start from a fresh inode.
  unlink(tmp_path_);
  fd_ = ::open(tmp_path_, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) return fail("create", tmp_path_, errno);
  // Direct I/O only pays for an image that must reach the disk now; a
  // file system without it (EINVAL) is written through the page cache.
  if (durable_ && page_size_ <= 4096) {
    direct_fd_ = ::open(tmp_path_, O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (direct_fd_ >= 0 && direct_.start(direct_fd_, fd_) < 0) {
      close(direct_fd_);
      direct_fd_ = -1;
    }
  }
  return true;
}

bool ImageWriter::write_data(uint64_t off, const void* buf, size_t len) {
  if (direct_fd_ < 0) return write_at(off, buf, len);
  return direct_.write(off, buf, len) || fail("write", tmp_path_, direct_.error());
}

bool ImageWriter::write_at(uint64_t off, const void* buf, size_t len) {
  auto p = static_cast<const char*>(buf);
  while (len) {
    ssize_t n = pwrite(fd_, p, len < kMaxWrite ? len : kMaxWrite, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write", tmp_path_, errno);
    }
    if (n == 0) return fail("write", tmp_path_, ENOSPC);  // no progress: treat as a full disk
    p += n;
    off += n;
    len -= n;
  }
  return true;
}

bool ImageWriter::meta_append(const void* buf, size_t len) {
  if (!grow_buffer(meta_, meta_cap_, meta_size_ + len)) return fail("grow metadata buffer for", tmp_path_, errno);
  memcpy(meta_ + meta_size_, buf, len);
  meta_size_ += len;
  return true;
}

bool ImageWriter::begin_record(RecordType type, uint32_t size) {
  if (fd_ < 0) return fail("add to", "image", 0, "writer is not open");
  RecordHeader h{static_cast<uint32_t>(type), size};
  return meta_append(&h, sizeof(h));
}

bool ImageWriter::end_record(uint32_t size) {
  static const char zeros[8] = {};
  size_t pad = align_up(size, 8) - size;
  return pad == 0 || meta_append(zeros, pad);
}

bool ImageWriter::add_record(RecordType type, const void* payload, uint32_t size) {
  uint32_t expected;
  switch (type) {
    case RecordType::Process: expected = sizeof(ProcessRecord); break;
    case RecordType::Thread: expected = sizeof(ThreadRecord); break;
    default:  // Region, Section and End are written by their own calls
      return fail("add_record to", tmp_path_, 0, "only Process and Thread records go through add_record");
  }
  if (size != expected) return fail("add_record to", tmp_path_, 0, "payload size does not match the record type");
  if (!begin_record(type, size)) return false;
  if (type == RecordType::Process) {
    process_records_++;
    process_off_ = meta_size_;
  } else {
    thread_records_++;
  }
  return meta_append(payload, size) && end_record(size);
}

bool ImageWriter::add_section(const char* name, const void* data, uint32_t size) {
  SectionRecord s{};
  size_t name_len = strlen(name);
  if (name_len == 0 || name_len >= sizeof(s.name) || size > UINT32_MAX - sizeof(s))
    return fail("add_section to", tmp_path_, 0, "section name must be 1-31 bytes and its size < 4 GiB");
  memcpy(s.name, name, name_len);
  s.size = size;
  uint32_t total = sizeof(s) + size;
  return begin_record(RecordType::Section, total) && meta_append(&s, sizeof(s)) &&
         (size == 0 || meta_append(data, size)) && end_record(total);
}

bool ImageWriter::add_region(const RegionRecord& region, const char* path, const void* data) {
  if (!begin_region(region, path)) return false;
  if (data) return add_pages(0, data, region.end - region.start) && end_region();
  // No saved bytes at all, as opposed to a region whose pages are all zero.
  rec_.flags |= kRegionNoData;
  return end_region();
}

bool ImageWriter::begin_region(const RegionRecord& region, const char* path) {
  if (fd_ < 0) return fail("add to", "image", 0, "writer is not open");
  if (in_region_) return fail("add_region to", tmp_path_, 0, "the previous region was not ended");
  size_t path_len = path ? strlen(path) + 1 : 0;
  if (region.start >= region.end || (region.start | region.end) % page_size_ || path_len > kMaxRegionPath) {
    char reason[160];
    Appender(reason, sizeof(reason))
        .str("region ").hex(region.start).str("-").hex(region.end)
        .str(" must be page-aligned and non-empty, its path at most ").dec(kMaxRegionPath).str(" bytes");
    return fail("add_region to", tmp_path_, 0, reason);
  }
  rec_ = region;
  rec_.flags &= ~kRegionNoData;
  rec_.path_len = static_cast<uint32_t>(path_len);
  rec_.crc = 0;
  rec_.data_offset = rec_.data_size = rec_.stored_size = 0;
  rec_.extent_count = 0;
  rec_.inherit_count = 0;
  rec_.chunk_count = 0;
  rec_.pad = 0;
  rec_path_ = path;
  in_region_ = true;
  ext_count_ = 0;
  inh_count_ = 0;
  chk_count_ = 0;
  copy_fill_ = 0;
  blob_size_ = 0;
  blob_start_ = offset_;
  return true;
}

bool ImageWriter::add_pages(uint64_t offset, const void* src, uint64_t size, bool stable) {
  if (!in_region_) return fail("add pages to", tmp_path_, 0, "no region begun");
  uint64_t region_size = rec_.end - rec_.start;
  uint64_t last_end = ext_count_ ? ext_[ext_count_ - 1].offset + ext_[ext_count_ - 1].size : 0;
  if ((offset | size) % page_size_ || size == 0 || offset > region_size || size > region_size - offset ||
      (ext_count_ && offset < last_end)) {
    char reason[160];
    Appender(reason, sizeof(reason))
        .str("pages at +").hex(offset).str(" (").dec(size).str(" bytes) of region ").hex(rec_.start)
        .str(" are not page-aligned, inside it and after the pages added before");
    return fail("add pages to", tmp_path_, 0, reason);
  }
  if (ext_count_ && offset == last_end) {
    ext_[ext_count_ - 1].size += size;
  } else {
    char* buf = reinterpret_cast<char*>(ext_);
    if (!grow_buffer(buf, ext_cap_, (ext_count_ + 1) * sizeof(PageExtent)))
      return fail("grow extent buffer for", tmp_path_, errno);
    ext_ = reinterpret_cast<PageExtent*>(buf);
    ext_[ext_count_++] = PageExtent{offset, size};
  }
  rec_.stored_size += size;
  auto from = static_cast<const char*>(src);
  while (size) {
    if (stable && copy_fill_ == 0 && size >= kChunkSize) {
      if (!put_chunk(from, kChunkSize)) return false;
      from += kChunkSize;
      size -= kChunkSize;
      continue;
    }
    size_t piece = kChunkSize - copy_fill_;
    if (piece > size) piece = size;
    memcpy(copy_ + copy_fill_, from, piece);
    copy_fill_ += piece;
    from += piece;
    size -= piece;
    if (copy_fill_ == kChunkSize && !flush_copy()) return false;
  }
  return true;
}

bool ImageWriter::add_inherited(uint64_t offset, uint64_t size) {
  if (!in_region_) return fail("add pages to", tmp_path_, 0, "no region begun");
  uint64_t region_size = rec_.end - rec_.start;
  uint64_t last_end = inh_count_ ? inh_[inh_count_ - 1].offset + inh_[inh_count_ - 1].size : 0;
  if ((offset | size) % page_size_ || size == 0 || offset > region_size || size > region_size - offset ||
      (inh_count_ && offset < last_end) || !lineage_.parent_generation) {
    char reason[160];
    Appender(reason, sizeof(reason))
        .str("inherited pages at +").hex(offset).str(" (").dec(size).str(" bytes) of region ").hex(rec_.start)
        .str(" are not page-aligned, inside it and after the ones added before, or the image has no parent");
    return fail("add pages to", tmp_path_, 0, reason);
  }
  if (inh_count_ && offset == last_end) {
    inh_[inh_count_ - 1].size += size;
    return true;
  }
  char* buf = reinterpret_cast<char*>(inh_);
  if (!grow_buffer(buf, inh_cap_, (inh_count_ + 1) * sizeof(PageExtent)))
    return fail("grow extent buffer for", tmp_path_, errno);
  inh_ = reinterpret_cast<PageExtent*>(buf);
  inh_[inh_count_++] = PageExtent{offset, size};
  return true;
}

void ImageWriter::set_lineage(uint64_t image_id, uint64_t generation, CheckpointMode mode,
                              uint64_t parent_generation, uint64_t parent_id, const char* parent_name) {
  lineage_ = FileHeader{};
  lineage_.image_id = image_id;
  lineage_.generation = generation;
  lineage_.mode = static_cast<uint32_t>(mode);
  lineage_.parent_generation = parent_generation;
  lineage_.parent_id = parent_id;
  if (parent_name) {
    size_t n = strnlen(parent_name, sizeof lineage_.parent_name - 1);
    memcpy(lineage_.parent_name, parent_name, n);
  }
}

// One chunk per kChunkSize of raw bytes. Compressed: ChunkHeader + lz4
// block; a chunk that lz4 cannot shrink is stored raw (compress_chunk).
// Uncompressed: every chunk is ChunkHeader (kChunkStored) + the raw bytes.
bool ImageWriter::flush_copy() {
  if (copy_fill_ == 0) return true;
  uint32_t raw_size = static_cast<uint32_t>(copy_fill_);
  copy_fill_ = 0;
  return put_chunk(copy_, raw_size);
}

bool ImageWriter::put_chunk(const char* bytes, uint32_t raw_size) {
  if (compress_workers_) {
    workers_.submit(raw_size, bytes == copy_ ? nullptr : bytes);
    if (!write_compressed(false)) return false;
    copy_ = workers_.input();
  } else if (compress_) {
    if (!write_chunk(compress_chunk(zbuf_, bytes, raw_size, zbuf_ + chunk_state_size()))) return false;
  } else {
    // Uncompressed: the same chunks, every one stored as is (no lz4 run),
    // so that each carries its own checksum and a restart can load and
    // check it on its own (lazy restart).
    const uint32_t crc = crc32c(0, bytes, raw_size);
    raw_head_ = ChunkHeader{raw_size, raw_size, crc, kChunkStored};
    if (!write_chunk({reinterpret_cast<const char*>(&raw_head_), sizeof raw_head_, bytes, raw_size, raw_size, crc}))
      return false;
  }
  start_writeback();
  return true;
}

// The kernel would start writing the image's dirty pages to disk only past
// its background threshold (a tenth of memory, typically more than an
// image), so that commit()'s fsync would find all of them still to write:
// the disk would sit idle while the image is made, then the writer would
// wait for it. Starting the writeback every kWritebackStep lets the disk
// work while the rest is copied and compressed. Only a hint: fsync still
// makes the image durable, and reports any error.
void ImageWriter::start_writeback() {
  const uint64_t end = blob_start_ + blob_size_;
  if (!durable_ || direct_fd_ >= 0 || end < writeback_from_ + kWritebackStep) return;
  sync_file_range(fd_, static_cast<off_t>(writeback_from_), static_cast<off_t>(end - writeback_from_),
                  SYNC_FILE_RANGE_WRITE);
  writeback_from_ = end;
}

bool ImageWriter::write_chunk(const CompressedChunk& c) {
  // The region record keeps a copy of the header (the chunk index).
  char* buf = reinterpret_cast<char*>(chk_);
  if (!grow_buffer(buf, chk_cap_, (chk_count_ + 1) * sizeof(ChunkHeader)))
    return fail("grow chunk index buffer for", tmp_path_, errno);
  chk_ = reinterpret_cast<ChunkHeader*>(buf);
  memcpy(&chk_[chk_count_++], c.head, sizeof(ChunkHeader));
  rec_.crc = crc32c_combine(rec_.crc, c.raw_crc, c.raw_size);
  uint64_t off = blob_start_ + blob_size_;
  if (!write_data(off, c.head, c.head_size) || (c.tail_size && !write_data(off + c.head_size, c.tail, c.tail_size)))
    return false;
  blob_size_ += c.head_size + c.tail_size;
  return true;
}

bool ImageWriter::write_compressed(bool all) {
  while (const CompressedChunk* c = workers_.oldest(all || workers_.full())) {
    if (!write_chunk(*c)) return false;
    workers_.release();
  }
  return true;
}

bool ImageWriter::end_region() {
  if (!in_region_) return fail("end region in", tmp_path_, 0, "no region begun");
  // The region's record needs its blob's size and checksum: every chunk
  // of it written.
  if (!flush_copy() || (compress_workers_ && !write_compressed(true))) return false;
  in_region_ = false;
  if (ext_count_ > UINT32_MAX || inh_count_ > UINT32_MAX || chk_count_ > UINT32_MAX)
    return fail("add_region to", tmp_path_, 0, "too many page runs in one region");
  rec_.extent_count = static_cast<uint32_t>(ext_count_);
  rec_.chunk_count = static_cast<uint32_t>(chk_count_);
  pages_raw_ += rec_.stored_size;
  pages_stored_ += blob_size_;
  rec_.inherit_count = static_cast<uint32_t>(inh_count_);
  if (blob_size_) {
    rec_.data_offset = blob_start_;
    rec_.data_size = blob_size_;
    offset_ = blob_start_ + blob_size_;
  }
  uint64_t total = sizeof(rec_) + (ext_count_ + inh_count_) * sizeof(PageExtent) + chk_count_ * sizeof(ChunkHeader) +
                   rec_.path_len;
  if (total > UINT32_MAX) return fail("add_region to", tmp_path_, 0, "region record larger than 4 GiB");
  return begin_record(RecordType::Region, static_cast<uint32_t>(total)) && meta_append(&rec_, sizeof(rec_)) &&
         (ext_count_ == 0 || meta_append(ext_, ext_count_ * sizeof(PageExtent))) &&
         (inh_count_ == 0 || meta_append(inh_, inh_count_ * sizeof(PageExtent))) &&
         (chk_count_ == 0 || meta_append(chk_, chk_count_ * sizeof(ChunkHeader))) &&
         (rec_.path_len == 0 || meta_append(rec_path_, rec_.path_len)) && end_record(static_cast<uint32_t>(total));
}

bool ImageWriter::commit() {
  if (fd_ < 0) return fail("commit", "image", 0, "writer is not open");
  if (in_region_) return fail("commit", tmp_path_, 0, "a region was not ended");
  // Refuse what the reader would refuse: better now than at restart.
  if (process_records_ != 1)
    return fail("commit", tmp_path_, 0, "an image needs exactly one Process record");
  ProcessRecord proc;
  memcpy(&proc, meta_ + process_off_, sizeof(proc));
  if (proc.thread_count != thread_records_)
    return fail("commit", tmp_path_, 0, "ProcessRecord.thread_count differs from the Thread records added");
  if (!begin_record(RecordType::End, 0)) return false;

  FileHeader h = lineage_;
  h.generation = proc.generation;
  memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kFormatVersion;
  h.arch = kArchX86_64;
  h.page_size = page_size_;
  h.flags = compress_ ? uint32_t{kFileCompressed} : 0u;
  h.meta_offset = align_up(offset_, 8);
  h.meta_size = meta_size_;
  h.file_size = h.meta_offset + h.meta_size;
  h.meta_crc = crc32c(0, meta_, meta_size_);
  h.header_crc = crc32c(0, &h, sizeof(h));
  // The last block of region data is padded to a whole one: the metadata
  // is written over the padding, and the file cut to its size.
  if (direct_fd_ >= 0 && !direct_.finish()) return fail("write", tmp_path_, direct_.error());
  if (!write_at(h.meta_offset, meta_, meta_size_) || !write_at(0, &h, sizeof(h))) return false;
  if (direct_fd_ >= 0 && ftruncate(fd_, static_cast<off_t>(h.file_size)) != 0)
    return fail("truncate", tmp_path_, errno);

  if (durable_ && fsync(fd_) != 0) return fail("fsync", tmp_path_, errno);
  if (direct_fd_ >= 0) {
    direct_.stop();
    close(direct_fd_);
    direct_fd_ = -1;
  }
  int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) return fail("close", tmp_path_, errno);
  if (rename(tmp_path_, final_path_) != 0) {
    char what[4300];
    Appender(what, sizeof(what)).str("rename ").str(tmp_path_).str(" to");
    return fail(what, final_path_, errno);
  }
  // Renamed: from here on the new image is in place and there is no temporary
  // left to remove, whatever happens below.
  tmp_path_[0] = '\0';
  offset_ = h.file_size;
  release_buffers();
  if (!durable_) return true;

  // The rename is durable only once the directory is.
  char dir[sizeof(final_path_)];
  const char* slash = strrchr(final_path_, '/');
  if (!slash) {
    memcpy(dir, ".", 2);
  } else {
    size_t n = slash == final_path_ ? 1 : slash - final_path_;
    memcpy(dir, final_path_, n);
    dir[n] = '\0';
  }
  int dfd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail("open directory", dir, errno);
  int rc = fsync(dfd);
  int err = errno;
  close(dfd);
  // EINVAL: the file system has no directory sync; nothing more can be done.
  if (rc != 0 && err != EINVAL) return fail("fsync directory", dir, err);
  return true;
}

void ImageWriter::release_buffers() {
  // The workers first: they may be reading copies of the region bytes.
  if (compress_workers_) workers_.stop();
  else if (copy_) munmap(copy_, kChunkSize);
  compress_workers_ = 0;
  if (meta_) munmap(meta_, meta_cap_);
  if (zbuf_) munmap(zbuf_, zbuf_cap_);
  if (ext_) munmap(ext_, ext_cap_);
  if (inh_) munmap(inh_, inh_cap_);
  if (chk_) munmap(chk_, chk_cap_);
  copy_ = nullptr;
  ext_ = inh_ = nullptr;
  chk_ = nullptr;
  ext_cap_ = ext_count_ = inh_cap_ = inh_count_ = chk_cap_ = chk_count_ = 0;
  in_region_ = false;
  meta_ = zbuf_ = nullptr;
  meta_cap_ = meta_size_ = zbuf_cap_ = 0;
}

void ImageWriter::abort() {
  // Its thread first: it writes through both descriptors.
  direct_.stop();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (direct_fd_ >= 0) close(direct_fd_);
  direct_fd_ = -1;
  if (tmp_path_[0]) unlink(tmp_path_);
  tmp_path_[0] = '\0';
  release_buffers();
}

}  // namespace ckpt::image
