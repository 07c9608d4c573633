// The image reader: validates everything restart relies on before restart
// touches its address space.
#include "image_reader.h"

#include <fcntl.h>
#include <lz4.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <functional>

#include "crc32c.h"

namespace ckpt::image {
namespace {

constexpr uint32_t kKnownRegionFlags = kRegionPrivate | kRegionShared | kRegionAnonymous |
                                       kRegionFile | kRegionHeap | kRegionStack | kRegionVdso |
                                       kRegionNoData | kRegionLost | kRegionExternal | kRegionFileBacked;
constexpr uint32_t kKnownProt = PROT_READ | PROT_WRITE | PROT_EXEC;
// read_chunk's pieces when it has something to do between them.
constexpr uint64_t kChunkReadPiece = 512u << 10;
// Metadata is read into memory whole; real images have a few MiB at most.
constexpr uint64_t kMaxMetaSize = 1ull << 30;
// x86-64's page size, the only one an image can have here (the reader
// refuses a page size other than the system's).
constexpr uint64_t kPage = 4096;

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
  return buf;
}

std::string describe(const Region& r) {
  std::string s = hex(r.rec.start) + "-" + hex(r.rec.end);
  if (!r.path.empty()) s += " " + r.path;
  return s;
}

// pread exactly len bytes; false with errno set (0 at end of file) otherwise.
bool pread_full(int fd, void* buf, size_t len, uint64_t off) {
  auto p = static_cast<char*>(buf);
  while (len) {
    ssize_t n = pread(fd, p, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = 0;
      return false;
    }
    p += n;
    off += n;
    len -= n;
  }
  return true;
}

std::string read_failure() { return errno ? strerror(errno) : "unexpected end of file"; }

}  // namespace

const char* arch_name(uint32_t machine) {
  switch (machine) {
    case 3: return "i386";
    case 8: return "mips";
    case 20: return "ppc";
    case 21: return "ppc64";
    case 22: return "s390";
    case 40: return "arm";
    case 62: return "x86-64";
    case 183: return "aarch64";
    case 243: return "riscv";
    case 258: return "loongarch";
    default: return "unknown";
  }
}

namespace {

enum class ChunkFailure { None, Read, Header, Checksum, Corrupt };

// One chunk's bytes into `raw` (h.raw_size of them): its header in the
// blob (before `off`) checked against `h` (the metadata's copy), its bytes
// read from `off`, their checksum checked, decompressed (through `stored`
// unless they were stored as is). The caller names the chunk in its own
// words.
ChunkFailure load_chunk(int fd, const ChunkHeader& h, uint64_t off, char* raw, std::vector<char>& stored,
                        const std::function<void()>* between = nullptr) {
  char* in = raw;
  if (!(h.flags & kChunkStored)) {
    stored.resize(h.stored_size);
    in = stored.data();
  }
  ChunkHeader on_disk;
  if (!pread_full(fd, &on_disk, sizeof on_disk, off - sizeof on_disk)) return ChunkFailure::Read;
  if (memcmp(&on_disk, &h, sizeof h) != 0) return ChunkFailure::Header;
  // With `between`, in pieces, calling it after each but the last.
  const uint64_t piece = between ? kChunkReadPiece : h.stored_size;
  for (uint64_t done = 0; done < h.stored_size; done += piece) {
    if (done) (*between)();
    if (!pread_full(fd, in + done, std::min<uint64_t>(piece, h.stored_size - done), off + done))
      return ChunkFailure::Read;
  }
  if (crc32c(0, in, h.stored_size) != h.crc) return ChunkFailure::Checksum;
  if (in != raw &&
      LZ4_decompress_safe(in, raw, static_cast<int>(h.stored_size), static_cast<int>(h.raw_size)) !=
          static_cast<int>(h.raw_size))
    return ChunkFailure::Corrupt;
  return ChunkFailure::None;
}

// Walks a region's chunks by the metadata's copy of their headers (the
// chunk index: no read of the blob), checking that they tile the blob (in
// an uncompressed image every chunk is stored as is), and calls f(header,
// offset of the stored bytes, raw offset in the region) for each chunk.
// Sets `why` and returns false on a problem.
template <typename F>
bool for_each_chunk(bool compressed, const Region& r, std::string& why, F&& f) {
  const RegionRecord& rec = r.rec;
  uint64_t size = rec.stored_size;
  uint64_t off = rec.data_offset, blob_end = rec.data_offset + rec.data_size;
  uint64_t raw = 0;
  size_t i = 0;
  while (raw < size) {
    std::string where = "region " + describe(r) + ": chunk at offset " + std::to_string(off);
    if (i == r.chunks.size()) {
      why = where + " is missing from its chunk index";
      return false;
    }
    const ChunkHeader& h = r.chunks[i++];
    if (blob_end - off < sizeof(h)) {
      why = where + " runs past the region's data";
      return false;
    }
    bool last = size - raw <= kChunkSize;
    uint64_t want_raw = last ? size - raw : kChunkSize;
    if (h.raw_size != want_raw || (h.flags & ~uint32_t{kChunkStored}) || (!compressed && !(h.flags & kChunkStored)) ||
        // The writer stores a chunk raw unless lz4 made it smaller.
        ((h.flags & kChunkStored) ? h.stored_size != h.raw_size
                                  : h.stored_size == 0 || h.stored_size >= h.raw_size) ||
        h.stored_size > blob_end - off - sizeof(h)) {
      why = where + " has an inconsistent header";
      return false;
    }
    if (!f(h, off + sizeof(h), raw)) return false;
    off += sizeof(h) + h.stored_size;
    raw += h.raw_size;
  }
  if (off != blob_end || i != r.chunks.size()) {
    why = "region " + describe(r) + ": data size " + std::to_string(rec.data_size) +
          " does not match its chunks";
    return false;
  }
  return true;
}

// Where the stored stream's bytes go: the stream is the region's extents
// back to back; scatter() copies a piece of it to its addresses in dst.
class Scatter {
 public:
  Scatter(const Region& r, char* dst) : r_(r), dst_(dst) {}
  // Where the next `len` bytes of the stream go if they lie in one extent
  // (then they can be read or decompressed straight there), else null.
  char* direct(uint64_t len) const {
    const PageExtent& e = r_.extents[i_];
    return e.size - in_ >= len ? dst_ + e.offset + in_ : nullptr;
  }
  // The next `n` bytes were put in place through direct().
  void skip(uint64_t n) {
    while (n) {
      uint64_t step = std::min(n, r_.extents[i_].size - in_);
      in_ += step;
      n -= step;
      if (in_ == r_.extents[i_].size) {
        i_++;
        in_ = 0;
      }
    }
  }
  // The next `len` bytes of the stream.
  void put(const char* src, uint64_t len) {
    while (len) {
      const PageExtent& e = r_.extents[i_];
      uint64_t n = std::min(len, e.size - in_);
      memcpy(dst_ + e.offset + in_, src, n);
      src += n;
      len -= n;
      skip(n);
    }
  }

 private:
  const Region& r_;
  char* dst_;
  size_t i_ = 0;    // current extent
  uint64_t in_ = 0;  // bytes of it done
};

// Reads region r's stored pages, checking every checksum, into dst (r's
// size, each page at its offset), or just checks them when dst is null.
bool read_checked(const ImageReader& img, const Region& r, char* dst, std::string& why) {
  const RegionRecord& rec = r.rec;
  uint64_t size = rec.stored_size;
  if (rec.flags & kRegionNoData) {
    why = "region " + describe(r) + " has no saved data";
    return false;
  }
  int fd = img.fd();
  uint32_t crc = 0;
  std::vector<char> stored, raw(std::min<uint64_t>(size, kChunkSize));
  Scatter out(r, dst);
  bool ok = for_each_chunk(img.compressed(), r, why, [&](const ChunkHeader& h, uint64_t off, uint64_t) {
    // Straight into place when the chunk lies in one extent (the usual
    // case: runs of pages are long), through `raw` otherwise.
    char* place = dst ? out.direct(h.raw_size) : nullptr;
    char* target = place ? place : raw.data();
    switch (load_chunk(fd, h, off, target, stored)) {
      case ChunkFailure::None: break;
      case ChunkFailure::Read:
        why = "cannot read region " + describe(r) + ": " + read_failure();
        return false;
      case ChunkFailure::Header:
        why = "region " + describe(r) + ": chunk at offset " + std::to_string(off - sizeof(h)) +
              " has an inconsistent header (not the metadata's copy)";
        return false;
      case ChunkFailure::Checksum:
        why = "checksum mismatch in region " + describe(r) + " (chunk at offset " +
              std::to_string(off - sizeof(h)) + ")";
        return false;
      case ChunkFailure::Corrupt:
        why = "corrupt compressed data in region " + describe(r);
        return false;
    }
    // A stored chunk's checksum is that of its raw bytes, just checked.
    crc = (h.flags & kChunkStored) ? crc32c_combine(crc, h.crc, h.raw_size) : crc32c(crc, target, h.raw_size);
    if (place) out.skip(h.raw_size);
    else if (dst) out.put(raw.data(), h.raw_size);
    return true;
  });
  if (!ok) return false;
  if (crc != rec.crc) {
    why = "checksum mismatch in region " + describe(r);
    return false;
  }
  return true;
}

bool terminated(const char* s, size_t cap) { return memchr(s, '\0', cap) != nullptr; }

}  // namespace

ImageReader::~ImageReader() {
  if (fd_ >= 0) close(fd_);
}

std::unique_ptr<ImageReader> ImageReader::open(const std::string& path, std::string& error) {
  return open_chain(path, error, 0);
}

std::unique_ptr<ImageReader> ImageReader::open_chain(const std::string& path, std::string& error, uint32_t depth) {
  std::unique_ptr<ImageReader> img(new ImageReader);
  img->path_ = path;
  auto bad = [&](const std::string& why) {
    error = "image " + path + ": " + why;
    return nullptr;
  };

  img->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (img->fd_ < 0) return bad(std::string("cannot open: ") + strerror(errno));
  int fd = img->fd_;
  struct stat st;
  if (fstat(fd, &st) != 0) return bad(std::string("cannot stat: ") + strerror(errno));
  if (!S_ISREG(st.st_mode)) return bad("not a regular file");
  uint64_t size = st.st_size;
  if (size == 0) return bad("empty file");

  // The magic first: a file that is not an image at all deserves that answer,
  // not a complaint about its size.
  FileHeader& h = img->header_;
  if (!pread_full(fd, &h, std::min<uint64_t>(size, sizeof(h)), 0))
    return bad("cannot read header: " + read_failure());
  if (size < sizeof(kMagic) || memcmp(h.magic, kMagic, sizeof(kMagic)) != 0)
    return bad("not a ckpt image (bad magic)");
  if (size < kHeaderSize)
    return bad("truncated (" + std::to_string(size) + " bytes, shorter than the " +
               std::to_string(kHeaderSize) + "-byte header)");
  // Version before checksum: another version may lay its header out differently.
  if (h.version != kFormatVersion)
    return bad("format version " + std::to_string(h.version) + ", this ckpt reads version " +
               std::to_string(kFormatVersion));
  if (h.arch != kArchX86_64)
    return bad("image is for another architecture (ELF machine " + std::to_string(h.arch) + ", " +
               arch_name(h.arch) + "), this ckpt runs on x86-64");
  FileHeader check = h;
  check.header_crc = 0;
  if (crc32c(0, &check, sizeof(check)) != h.header_crc) return bad("header checksum mismatch");
  long page = sysconf(_SC_PAGESIZE);
  if (h.page_size != page)
    return bad("page size " + std::to_string(h.page_size) + ", this system's is " +
               std::to_string(page));
  if (h.flags & ~uint32_t{kFileCompressed}) return bad("unknown file flags " + hex(h.flags));
  if (size < h.file_size)
    return bad("truncated (" + std::to_string(size) + " of " + std::to_string(h.file_size) +
               " bytes)");
  if (size > h.file_size)
    return bad("file has " + std::to_string(size) + " bytes, its header says " +
               std::to_string(h.file_size));
  if (h.meta_offset < kHeaderSize || h.meta_offset > h.file_size ||
      h.meta_size > h.file_size - h.meta_offset || h.meta_size < sizeof(RecordHeader) ||
      h.meta_size > kMaxMetaSize)
    return bad("metadata (offset " + std::to_string(h.meta_offset) + ", " +
               std::to_string(h.meta_size) + " bytes) does not fit the file");

  std::vector<char> meta(h.meta_size);
  if (!pread_full(fd, meta.data(), meta.size(), h.meta_offset))
    return bad("cannot read metadata: " + read_failure());
  if (crc32c(0, meta.data(), meta.size()) != h.meta_crc) return bad("metadata checksum mismatch");

  int processes = 0;
  bool ended = false;
  for (size_t pos = 0; pos < meta.size();) {
    std::string at = " at metadata offset " + std::to_string(pos);
    if (ended) return bad("data after the End record" + at);
    if (meta.size() - pos < sizeof(RecordHeader)) return bad("record header cut short" + at);
    RecordHeader rh;
    memcpy(&rh, meta.data() + pos, sizeof(rh));
    pos += sizeof(rh);
    uint64_t padded = (uint64_t{rh.size} + 7) & ~uint64_t{7};
    if (padded > meta.size() - pos)
      return bad("record of " + std::to_string(rh.size) + " bytes" + at + " runs past the metadata");
    const char* p = meta.data() + pos;
    auto wrong_size = [&](const char* what) {
      return bad(std::string(what) + " record" + at + " has a wrong size (" +
                 std::to_string(rh.size) + " bytes)");
    };
    switch (static_cast<RecordType>(rh.type)) {
      case RecordType::End:
        if (rh.size != 0) return wrong_size("End");
        ended = true;
        break;
      case RecordType::Process: {
        if (rh.size != sizeof(ProcessRecord)) return wrong_size("Process");
        processes++;
        ProcessRecord& pr = img->process_;
        memcpy(&pr, p, sizeof(pr));
        if (!terminated(pr.unique_id, sizeof(pr.unique_id)) ||
            !terminated(pr.progname, sizeof(pr.progname)) ||
            !terminated(pr.hostname, sizeof(pr.hostname)) || !terminated(pr.cwd, sizeof(pr.cwd)) ||
            !terminated(pr.exe, sizeof(pr.exe)))
          return bad("Process record has an unterminated string");
        if (pr.thread_count > uint32_t{kMaxThreads})
          return bad("Process record counts " + std::to_string(pr.thread_count) + " threads, more than the " +
                     std::to_string(kMaxThreads) + " a process can have");
        break;
      }
      case RecordType::Thread: {
        if (rh.size != sizeof(ThreadRecord)) return wrong_size("Thread");
        if (img->threads_.size() == size_t{kMaxThreads})
          return bad("more than " + std::to_string(kMaxThreads) + " Thread records" + at);
        ThreadRecord& t = img->threads_.emplace_back();
        memcpy(&t, p, sizeof(t));
        break;
      }
      case RecordType::Region: {
        if (rh.size < sizeof(RegionRecord)) return wrong_size("Region");
        if (img->regions_.size() == kMaxRegions)
          return bad("more than " + std::to_string(kMaxRegions) + " Region records" + at);
        Region& r = img->regions_.emplace_back();
        memcpy(&r.rec, p, sizeof(r.rec));
        uint64_t extent_bytes = (uint64_t{r.rec.extent_count} + r.rec.inherit_count) * sizeof(PageExtent);
        uint64_t chunk_bytes = uint64_t{r.rec.chunk_count} * sizeof(ChunkHeader);
        if (rh.size != sizeof(RegionRecord) + extent_bytes + chunk_bytes + uint64_t{r.rec.path_len})
          return wrong_size("Region");
        if (r.rec.path_len > kMaxRegionPath)
          return bad("Region record" + at + " has a path of " + std::to_string(r.rec.path_len) +
                     " bytes, more than " + std::to_string(kMaxRegionPath));
        r.extents.resize(r.rec.extent_count);
        r.inherited.resize(r.rec.inherit_count);
        if (r.rec.extent_count)
          memcpy(r.extents.data(), p + sizeof(RegionRecord), r.rec.extent_count * sizeof(PageExtent));
        if (r.rec.inherit_count)
          memcpy(r.inherited.data(), p + sizeof(RegionRecord) + r.rec.extent_count * sizeof(PageExtent),
                 r.rec.inherit_count * sizeof(PageExtent));
        r.chunks.resize(r.rec.chunk_count);
        if (r.rec.chunk_count) memcpy(r.chunks.data(), p + sizeof(RegionRecord) + extent_bytes, chunk_bytes);
        if (r.rec.path_len) {
          const char* s = p + sizeof(RegionRecord) + extent_bytes + chunk_bytes;
          if (strnlen(s, r.rec.path_len) != r.rec.path_len - 1)
            return bad("Region record" + at + " has a malformed path");
          r.path.assign(s, r.rec.path_len - 1);
        }
        break;
      }
      case RecordType::Section: {
        SectionRecord s;
        if (rh.size < sizeof(s)) return wrong_size("Section");
        memcpy(&s, p, sizeof(s));
        if (rh.size != sizeof(s) + uint64_t{s.size}) return wrong_size("Section");
        if (img->sections_.size() == size_t{kMaxSections})
          return bad("more than " + std::to_string(kMaxSections) + " Section records" + at);
        if (!terminated(s.name, sizeof(s.name)) || s.name[0] == '\0')
          return bad("Section record" + at + " has a malformed name");
        Section& sec = img->sections_.emplace_back();
        sec.name = s.name;
        sec.data.assign(p + sizeof(s), p + rh.size);
        break;
      }
      default:
        return bad("unknown record type " + std::to_string(rh.type) + at);
    }
    pos += padded;
  }
  if (!ended) return bad("metadata has no End record");
  if (processes != 1)
    return bad(std::to_string(processes) + " Process records, expected exactly one");
  if (img->process_.thread_count != img->threads_.size())
    return bad("Process record counts " + std::to_string(img->process_.thread_count) +
               " threads, the image has " + std::to_string(img->threads_.size()));

  // Regions: bounds, flags and where their data lies; restart trusts all of it.
  for (const Region& r : img->regions_) {
    const RegionRecord& rec = r.rec;
    std::string name = "region " + describe(r);
    if (rec.start >= rec.end || rec.start % h.page_size || rec.end % h.page_size)
      return bad(name + ": bounds not page-aligned or empty");
    if (rec.end > kUserSpaceEnd) return bad(name + ": lies outside user space (which ends at " + hex(kUserSpaceEnd) + ")");
    if (rec.flags & ~kKnownRegionFlags) return bad(name + ": unknown flags " + hex(rec.flags));
    if (rec.prot & ~kKnownProt) return bad(name + ": unknown protection " + hex(rec.prot));
    if (rec.inherit_count && !h.parent_generation) return bad(name + ": inherits pages but the image has no parent");
    if ((rec.flags & kRegionFileBacked) &&
        ((rec.flags & (kRegionNoData | kRegionShared | kRegionExternal)) || !(rec.flags & kRegionFile) ||
         r.path.empty() || r.path[0] != '/'))
      return bad(name + ": file-backed but not a private mapping of a file");
    if (!(rec.flags & kRegionFileBacked) && (rec.file_dev || rec.file_ino || rec.file_size || rec.file_mtime_ns))
      return bad(name + ": records a file identity but is not file-backed");
    if (rec.flags & kRegionNoData) {
      if (rec.data_offset || rec.data_size || rec.crc || rec.stored_size || rec.extent_count || rec.inherit_count ||
          rec.chunk_count)
        return bad(name + ": has data but is marked as having none");
      continue;
    }
    // The extent list: restart maps or copies each extent into the region.
    uint64_t region_size = rec.end - rec.start, prev_end = 0, sum = 0;
    for (size_t i = 0; i < r.extents.size(); ++i) {
      const PageExtent& e = r.extents[i];
      if ((e.offset | e.size) % h.page_size || e.size == 0 || e.offset > region_size ||
          e.size > region_size - e.offset || (i && e.offset <= prev_end))
        return bad(name + ": stored page run " + std::to_string(i) + " (+" + hex(e.offset) + ", " +
                   std::to_string(e.size) + " bytes) is not page-aligned, inside the region and after the previous one");
      prev_end = e.offset + e.size;
      sum += e.size;
    }
    // Inherited runs: the same rules, and none overlaps a stored page.
    prev_end = 0;
    size_t stored_at = 0;
    for (size_t i = 0; i < r.inherited.size(); ++i) {
      const PageExtent& e = r.inherited[i];
      while (stored_at < r.extents.size() && r.extents[stored_at].offset + r.extents[stored_at].size <= e.offset)
        ++stored_at;
      if ((e.offset | e.size) % h.page_size || e.size == 0 || e.offset > region_size ||
          e.size > region_size - e.offset || (i && e.offset <= prev_end) ||
          (stored_at < r.extents.size() && r.extents[stored_at].offset < e.offset + e.size))
        return bad(name + ": inherited page run " + std::to_string(i) + " (+" + hex(e.offset) + ", " +
                   std::to_string(e.size) + " bytes) is not page-aligned, inside the region, after the previous one "
                   "and apart from the stored pages");
      prev_end = e.offset + e.size;
    }
    if (sum != rec.stored_size)
      return bad(name + ": its stored page runs add up to " + std::to_string(sum) + " bytes, the record says " +
                 std::to_string(rec.stored_size));
    if (rec.stored_size == 0) {
      if (rec.data_offset || rec.data_size || rec.crc || rec.chunk_count) return bad(name + ": stores no pages but has data");
      continue;
    }
    if (rec.data_offset < kHeaderSize || rec.data_offset > h.meta_offset ||
        rec.data_size > h.meta_offset - rec.data_offset || rec.data_size == 0)
      return bad(name + ": data (offset " + std::to_string(rec.data_offset) + ", " +
                 std::to_string(rec.data_size) + " bytes) lies outside the data area");
    std::string why;
    if (!for_each_chunk(img->compressed(), r, why, [](const ChunkHeader&, uint64_t, uint64_t) { return true; }))
      return bad(why);
  }
  std::vector<const Region*> order;
  for (const Region& r : img->regions_) order.push_back(&r);
  std::sort(order.begin(), order.end(),
            [](const Region* a, const Region* b) { return a->rec.start < b->rec.start; });
  for (size_t i = 1; i < order.size(); i++)
    if (order[i - 1]->rec.end > order[i]->rec.start)
      return bad("regions " + describe(*order[i - 1]) + " and " + describe(*order[i]) + " overlap");
  if (h.parent_generation && !img->open_parent(depth, error)) return nullptr;
  std::erase_if(order, [](const Region* r) { return r->rec.data_size == 0; });
  std::sort(order.begin(), order.end(),
            [](const Region* a, const Region* b) { return a->rec.data_offset < b->rec.data_offset; });
  for (size_t i = 1; i < order.size(); i++)
    if (order[i - 1]->rec.data_offset + order[i - 1]->rec.data_size > order[i]->rec.data_offset)
      return bad("data of regions " + describe(*order[i - 1]) + " and " + describe(*order[i]) +
                 " overlap");
  return img;
}

bool ImageReader::open_parent(uint32_t depth, std::string& error) {
  const FileHeader& h = header_;
  auto bad = [&](const std::string& why) {
    error = "image " + path_ + ": " + why;
    return false;
  };
  const char* name = h.parent_name;
  if (!terminated(name, sizeof h.parent_name) || !name[0] || strchr(name, '/') || !strcmp(name, ".") ||
      !strcmp(name, ".."))
    return bad("its parent's name is not a file name");
  if (h.parent_generation >= h.generation || h.generation != process_.generation)
    return bad("its parent generation " + std::to_string(h.parent_generation) + " is not below its own " +
               std::to_string(process_.generation));
  if (depth + 1 >= kMaxChain) return bad("its chain of parents is longer than " + std::to_string(kMaxChain) + " images");
  const size_t slash = path_.rfind('/');
  const std::string parent_path = (slash == std::string::npos ? std::string() : path_.substr(0, slash + 1)) + name;
  const std::string which = "its parent image " + parent_path + " (generation " + std::to_string(h.parent_generation) + ")";
  std::string why;
  parent_ = open_chain(parent_path, why, depth + 1);
  if (!parent_) {
    const std::string own = "image " + parent_path + ": ";  // said once, by `which`
    return bad(which + " is unusable: " + (why.rfind(own, 0) == 0 ? why.substr(own.size()) : why));
  }
  const FileHeader& ph = parent_->header_;
  if (ph.image_id != h.parent_id)
    return bad(which + " is not the image it was written over (identity " + hex(ph.image_id) + ", expected " +
               hex(h.parent_id) + ")");
  if (parent_->process_.generation != h.parent_generation ||
      strcmp(parent_->process_.unique_id, process_.unique_id) != 0)
    return bad(which + " is another process's or generation's image");
  return true;
}

bool ImageReader::read_inherited(const std::vector<PageExtent>& want, uint64_t base, char* dst,
                                 std::string& error) const {
  std::vector<PageExtent> deeper;  // what this image inherits in turn, as addresses
  std::vector<char> none;
  size_t w = 0;
  for (const Region& q : regions_) {
    const uint64_t qs = q.rec.start, qe = q.rec.end;
    while (w > 0 && want[w - 1].offset + want[w - 1].size > qs) --w;  // runs may span regions
    while (w < want.size() && want[w].offset + want[w].size <= qs) ++w;
    if (w == want.size() || want[w].offset >= qe || (q.rec.flags & kRegionNoData)) continue;
    // The parts of `want` in q (addresses).
    std::vector<PageExtent> parts;
    for (size_t i = w; i < want.size() && want[i].offset < qe; ++i) {
      uint64_t lo = std::max(want[i].offset, qs), hi = std::min(want[i].offset + want[i].size, qe);
      if (lo < hi) parts.push_back({lo, hi - lo});
    }
    if (q.rec.stored_size) {
      // The whole region's pages, checksummed, then the wanted ones.
      const uint64_t len = qe - qs;
      void* tmp = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (tmp == MAP_FAILED) {
        error = "image " + path_ + ": cannot map memory to read region " + describe(q) + ": " + strerror(errno);
        return false;
      }
      std::string why;
      const bool ok = read_checked(*this, q, static_cast<char*>(tmp), why);
      if (ok)
        for (const PageExtent& p : parts) memcpy(dst + (p.offset - base), static_cast<char*>(tmp) + (p.offset - qs), p.size);
      munmap(tmp, len);
      if (!ok) {
        error = "image " + path_ + ": " + why;
        return false;
      }
    } else {
      for (const PageExtent& p : parts) memset(dst + (p.offset - base), 0, p.size);
    }
    for (const PageExtent& p : parts)
      for (const PageExtent& e : q.inherited) {
        uint64_t lo = std::max(p.offset, qs + e.offset), hi = std::min(p.offset + p.size, qs + e.offset + e.size);
        if (lo < hi) deeper.push_back({lo, hi - lo});
      }
  }
  if (deeper.empty()) return true;
  std::sort(deeper.begin(), deeper.end(), [](const PageExtent& a, const PageExtent& b) { return a.offset < b.offset; });
  return parent_->read_inherited(deeper, base, dst, error);
}

uint64_t Region::pages() const { return (rec.end - rec.start) / kPage; }
uint64_t Region::inherited_pages() const {
  uint64_t n = 0;
  for (const PageExtent& e : inherited) n += e.size / kPage;
  return n;
}
uint64_t Region::stored_pages() const { return rec.stored_size / kPage; }

bool ImageReader::verify_data(std::string& error) const {
  if (parent_ && !parent_->verify_data(error)) return false;
  for (const Region& r : regions_) {
    if (r.rec.flags & kRegionNoData) continue;
    std::string why;
    if (!read_checked(*this, r, nullptr, why)) {
      error = "image " + path_ + ": " + why;
      return false;
    }
  }
  return true;
}

bool ImageReader::chunks(const Region& r, std::vector<Chunk>& out, std::string& error) const {
  std::string why;
  out.clear();
  if (r.rec.flags & kRegionNoData) {
    error = "image " + path_ + ": region " + describe(r) + " has no chunks";
    return false;
  }
  if (!for_each_chunk(compressed(), r, why, [&](const ChunkHeader& h, uint64_t off, uint64_t raw) {
        out.push_back({off, raw, h});
        return true;
      })) {
    error = "image " + path_ + ": " + why;
    return false;
  }
  return true;
}

bool ImageReader::read_chunk(const Region& r, const Chunk& c, char* raw, std::vector<char>& stored,
                             std::string& error, const std::function<void()>& between) const {
  const ChunkFailure failure = load_chunk(fd_, c.header, c.file_offset, raw, stored, between ? &between : nullptr);
  if (failure == ChunkFailure::None) return true;
  const std::string read_error = failure == ChunkFailure::Read ? read_failure() : "";  // before errno can change
  const std::string where = "image " + path_ + ": region " + describe(r) + " (chunk at offset " +
                            std::to_string(c.file_offset - sizeof c.header) + ")";
  if (failure == ChunkFailure::Read) error = "cannot read " + where + ": " + read_error;
  else if (failure == ChunkFailure::Header) error = "inconsistent chunk header (not the metadata's copy) in " + where;
  else if (failure == ChunkFailure::Checksum) error = "checksum mismatch in " + where;
  else error = "corrupt compressed data in " + where;
  return false;
}

bool ImageReader::read_region(const Region& r, void* dst, std::string& error) const {
  std::string why;
  if (!read_checked(*this, r, static_cast<char*>(dst), why)) {
    error = "image " + path_ + ": " + why;
    return false;
  }
  if (r.inherited.empty()) return true;
  std::vector<PageExtent> want;
  for (const PageExtent& e : r.inherited) want.push_back({r.rec.start + e.offset, e.size});
  return parent_->read_inherited(want, r.rec.start, static_cast<char*>(dst), error);
}

}  // namespace ckpt::image
