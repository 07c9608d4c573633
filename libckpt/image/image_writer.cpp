// The image writer. It runs in the snapshot child with the application's
// threads frozen (GUIDE §3.1), so everything here is async-signal-safe: raw
// system calls, mmap-backed buffers, lz4 with a caller-provided state, and
// error text assembled by hand from strerrordesc_np's static strings.
#include "image_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdio.h>  // rename() only: a plain system call, async-signal-safe
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ckpt/raw_syscall.h"
#include "crc32c.h"

namespace ckpt::image {
namespace {

// One pwrite never exceeds this (Linux caps a single write at 2 GiB - 4 KiB).
constexpr size_t kMaxWrite = 1u << 30;
constexpr size_t kInitialMeta = 64u << 10;
constexpr int kLz4Acceleration = 1;

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

// The lz4 state lives at the start of the compression buffer, the output
// (ChunkHeader + block) after it.
size_t lz4_state_size() { return align_up(LZ4_sizeofState(), 64); }

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

bool ImageWriter::open(const char* final_path, bool compress) {
  abort();
  error_[0] = '\0';
  size_t len = strlen(final_path);
  if (len == 0 || len + 1 > sizeof(final_path_)) return fail("open", "image", 0, "path empty or too long");
  memcpy(final_path_, final_path, len + 1);
  Appender(tmp_path_, sizeof(tmp_path_)).str(final_path).str(".tmp.").dec(getpid());

  compress_ = compress;
  page_size_ = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  offset_ = kHeaderSize;
  process_records_ = 0;
  thread_records_ = 0;
  process_off_ = 0;

  meta_ = static_cast<char*>(map_buffer(kInitialMeta));
  if (!meta_) return fail("allocate metadata buffer for", tmp_path_, errno);
  meta_cap_ = kInitialMeta;
  meta_size_ = 0;
  // Region bytes are copied here before they are checksummed and written:
  // the process writing the image is a copy of the one checkpointed and
  // still runs in some of the memory it saves (its stack, its TLS), so the
  // live bytes may change between two reads of them.
  copy_ = static_cast<char*>(map_buffer(kChunkSize));
  if (!copy_) return fail("allocate copy buffer for", tmp_path_, errno);
  if (compress) {
    size_t cap = lz4_state_size() + sizeof(ChunkHeader) + LZ4_compressBound(kChunkSize);
    zbuf_ = static_cast<char*>(map_buffer(cap));
    if (!zbuf_) return fail("allocate compression buffer for", tmp_path_, errno);
    zbuf_cap_ = cap;
  }

  // A stale temporary of an earlier writer with our pid would otherwise keep
  // its owner and mode through O_TRUNC: start from a fresh inode.
  unlink(tmp_path_);
  fd_ = ::open(tmp_path_, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) return fail("create", tmp_path_, errno);
  return true;
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
  if (meta_size_ + len > meta_cap_) {
    size_t cap = meta_cap_ * 2;
    while (cap < meta_size_ + len) cap *= 2;
    void* p = mremap(meta_, meta_cap_, cap, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) return fail("grow metadata buffer for", tmp_path_, errno);
    meta_ = static_cast<char*>(p);
    meta_cap_ = cap;
  }
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

bool ImageWriter::add_region(const RegionRecord& region, const char* path, const void* data, Source source) {
  if (fd_ < 0) return fail("add to", "image", 0, "writer is not open");
  RegionRecord rec = region;
  size_t path_len = path ? strlen(path) + 1 : 0;
  if (rec.start >= rec.end || (rec.start | rec.end) % page_size_ || path_len > 65536) {
    char reason[128];
    Appender(reason, sizeof(reason))
        .str("region ").hex(rec.start).str("-").hex(rec.end)
        .str(" must be page-aligned and non-empty, its path < 64 KiB");
    return fail("add_region to", tmp_path_, 0, reason);
  }
  rec.path_len = static_cast<uint32_t>(path_len);
  rec.crc = 0;
  if (!data) {
    rec.flags |= kRegionNoData;
    rec.data_offset = 0;
    rec.data_size = 0;
  } else {
    rec.flags &= ~kRegionNoData;
    if (!(compress_ ? write_compressed(rec, data, source) : write_raw(rec, data, source))) return false;
  }
  uint32_t total = static_cast<uint32_t>(sizeof(rec) + path_len);
  return begin_record(RecordType::Region, total) && meta_append(&rec, sizeof(rec)) &&
         (path_len == 0 || meta_append(path, path_len)) && end_record(total);
}

void ImageWriter::copy_in(const char* src, size_t len, Source source) {
  if (source == Source::Memory) {
    memcpy(copy_, src, len);
    return;
  }
  // Regions and chunks start on page boundaries, so a short read stops at
  // the first page that faults: zero it and go on after it.
  // Raw calls: libckpt interposes getpid and syscall (virtual pids).
  const long self = ckpt_raw_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0);
  for (size_t done = 0; done < len;) {
    iovec local{copy_ + done, len - done};
    iovec remote{const_cast<char*>(src + done), len - done};
    long n = ckpt_raw_syscall6(SYS_process_vm_readv, self, reinterpret_cast<long>(&local), 1,
                               reinterpret_cast<long>(&remote), 1, 0);
    if (n < 0 && n != -EFAULT) {
      // Not available here (seccomp, an old kernel): read directly, as
      // before this path existed.
      memcpy(copy_ + done, src + done, len - done);
      return;
    }
    done += n > 0 ? static_cast<size_t>(n) : 0;
    if (done >= len) return;
    size_t hole = len - done < page_size_ ? len - done : page_size_;
    memset(copy_ + done, 0, hole);
    done += hole;
  }
}

// Raw bytes at a page-aligned offset, so restart can mmap them from the file.
bool ImageWriter::write_raw(RegionRecord& rec, const void* data, Source source) {
  auto src = static_cast<const char*>(data);
  uint64_t size = rec.end - rec.start;
  uint64_t off = align_up(offset_, page_size_);
  for (uint64_t done = 0; done < size;) {
    size_t piece = size - done < kChunkSize ? size - done : kChunkSize;
    copy_in(src + done, piece, source);
    rec.crc = crc32c(rec.crc, copy_, piece);
    if (!write_at(off + done, copy_, piece)) return false;
    done += piece;
  }
  rec.data_offset = off;
  rec.data_size = size;
  offset_ = off + size;
  return true;
}

// A sequence of ChunkHeader + lz4 block, one per kChunkSize of raw bytes;
// a chunk that lz4 cannot shrink is stored raw.
bool ImageWriter::write_compressed(RegionRecord& rec, const void* data, Source source) {
  auto src = static_cast<const char*>(data);
  uint64_t size = rec.end - rec.start;
  void* state = zbuf_;
  auto* hdr = reinterpret_cast<ChunkHeader*>(zbuf_ + lz4_state_size());
  char* block = reinterpret_cast<char*>(hdr + 1);
  int block_cap = static_cast<int>(zbuf_cap_ - lz4_state_size() - sizeof(ChunkHeader));
  uint64_t off = offset_;
  for (uint64_t done = 0; done < size;) {
    uint32_t raw_size = static_cast<uint32_t>(size - done < kChunkSize ? size - done : kChunkSize);
    const char* raw = copy_;
    copy_in(src + done, raw_size, source);
    rec.crc = crc32c(rec.crc, raw, raw_size);
    int z = LZ4_compress_fast_extState(state, raw, block, static_cast<int>(raw_size), block_cap,
                                       kLz4Acceleration);
    if (z > 0 && static_cast<uint32_t>(z) < raw_size) {
      *hdr = ChunkHeader{raw_size, static_cast<uint32_t>(z), crc32c(0, block, z), 0};
      if (!write_at(off, hdr, sizeof(*hdr) + z)) return false;
      off += sizeof(*hdr) + z;
    } else {
      *hdr = ChunkHeader{raw_size, raw_size, crc32c(0, raw, raw_size), kChunkStored};
      if (!write_at(off, hdr, sizeof(*hdr)) || !write_at(off + sizeof(*hdr), raw, raw_size))
        return false;
      off += sizeof(*hdr) + raw_size;
    }
    done += raw_size;
  }
  rec.data_offset = offset_;
  rec.data_size = off - offset_;
  offset_ = off;
  return true;
}

bool ImageWriter::commit() {
  if (fd_ < 0) return fail("commit", "image", 0, "writer is not open");
  // Refuse what the reader would refuse: better now than at restart.
  if (process_records_ != 1)
    return fail("commit", tmp_path_, 0, "an image needs exactly one Process record");
  ProcessRecord proc;
  memcpy(&proc, meta_ + process_off_, sizeof(proc));
  if (proc.thread_count != thread_records_)
    return fail("commit", tmp_path_, 0, "ProcessRecord.thread_count differs from the Thread records added");
  if (!begin_record(RecordType::End, 0)) return false;

  FileHeader h{};
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
  if (!write_at(h.meta_offset, meta_, meta_size_) || !write_at(0, &h, sizeof(h))) return false;

  if (fsync(fd_) != 0) return fail("fsync", tmp_path_, errno);
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
  if (meta_) munmap(meta_, meta_cap_);
  if (zbuf_) munmap(zbuf_, zbuf_cap_);
  if (copy_) munmap(copy_, kChunkSize);
  copy_ = nullptr;
  meta_ = zbuf_ = nullptr;
  meta_cap_ = meta_size_ = zbuf_cap_ = 0;
}

void ImageWriter::abort() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (tmp_path_[0]) unlink(tmp_path_);
  tmp_path_[0] = '\0';
  release_buffers();
}

}  // namespace ckpt::image
