// The image reader: validates everything restart relies on before restart
// touches its address space, and renders images for ckpt_info.
#include "image_reader.h"

#include <fcntl.h>
#include <lz4.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>

#include "crc32c.h"

namespace ckpt::image {
namespace {

constexpr uint32_t kKnownRegionFlags = kRegionPrivate | kRegionShared | kRegionAnonymous |
                                       kRegionFile | kRegionHeap | kRegionStack | kRegionVdso |
                                       kRegionNoData | kRegionLost;
constexpr uint32_t kKnownProt = PROT_READ | PROT_WRITE | PROT_EXEC;
// Raw regions are verified in pieces of this size.
constexpr size_t kVerifyPiece = 8u << 20;
// Metadata is read into memory whole; real images have a few MiB at most.
constexpr uint64_t kMaxMetaSize = 1ull << 30;

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

// Walks the ChunkHeader chain of a compressed region's blob, checking its
// structure, and calls f(header, offset of the stored bytes, raw offset in
// the region) for each chunk. Sets `why` and returns false on a problem.
template <typename F>
bool for_each_chunk(int fd, const Region& r, std::string& why, F&& f) {
  const RegionRecord& rec = r.rec;
  uint64_t size = rec.end - rec.start;
  uint64_t off = rec.data_offset, blob_end = rec.data_offset + rec.data_size;
  uint64_t raw = 0;
  while (raw < size) {
    ChunkHeader h;
    std::string where = "region " + describe(r) + ": chunk at offset " + std::to_string(off);
    if (blob_end - off < sizeof(h)) {
      why = where + " runs past the region's data";
      return false;
    }
    if (!pread_full(fd, &h, sizeof(h), off)) {
      why = where + ": " + read_failure();
      return false;
    }
    bool last = size - raw <= kChunkSize;
    uint64_t want_raw = last ? size - raw : kChunkSize;
    if (h.raw_size != want_raw || (h.flags & ~uint32_t{kChunkStored}) ||
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
  if (off != blob_end) {
    why = "region " + describe(r) + ": data size " + std::to_string(rec.data_size) +
          " does not match its chunks";
    return false;
  }
  return true;
}

// Reads region r's bytes, checking every checksum, into dst (r's size), or
// just checks them when dst is null.
bool read_checked(const ImageReader& img, const Region& r, char* dst, std::string& why) {
  const RegionRecord& rec = r.rec;
  uint64_t size = rec.end - rec.start;
  if (rec.flags & kRegionNoData) {
    why = "region " + describe(r) + " has no saved data";
    return false;
  }
  int fd = img.fd();
  uint32_t crc = 0;
  if (!img.compressed()) {
    std::vector<char> scratch(dst ? 0 : std::min<uint64_t>(size, kVerifyPiece));
    for (uint64_t done = 0; done < size;) {
      size_t piece = std::min<uint64_t>(size - done, dst ? size : kVerifyPiece);
      char* buf = dst ? dst + done : scratch.data();
      if (!pread_full(fd, buf, piece, rec.data_offset + done)) {
        why = "cannot read region " + describe(r) + ": " + read_failure();
        return false;
      }
      crc = crc32c(crc, buf, piece);
      done += piece;
    }
  } else {
    std::vector<char> stored, raw(dst ? 0 : std::min<uint64_t>(size, kChunkSize));
    bool ok = for_each_chunk(fd, r, why, [&](const ChunkHeader& h, uint64_t off, uint64_t pos) {
      char* out = dst ? dst + pos : raw.data();
      char* in = out;
      if (!(h.flags & kChunkStored)) {
        stored.resize(h.stored_size);
        in = stored.data();
      }
      if (!pread_full(fd, in, h.stored_size, off)) {
        why = "cannot read region " + describe(r) + ": " + read_failure();
        return false;
      }
      if (crc32c(0, in, h.stored_size) != h.crc) {
        why = "checksum mismatch in region " + describe(r) + " (chunk at offset " +
              std::to_string(off - sizeof(h)) + ")";
        return false;
      }
      if (in != out && LZ4_decompress_safe(in, out, static_cast<int>(h.stored_size),
                                           static_cast<int>(h.raw_size)) !=
                           static_cast<int>(h.raw_size)) {
        why = "corrupt compressed data in region " + describe(r);
        return false;
      }
      crc = crc32c(crc, out, h.raw_size);
      return true;
    });
    if (!ok) return false;
  }
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
        break;
      }
      case RecordType::Thread: {
        if (rh.size != sizeof(ThreadRecord)) return wrong_size("Thread");
        ThreadRecord& t = img->threads_.emplace_back();
        memcpy(&t, p, sizeof(t));
        break;
      }
      case RecordType::Region: {
        if (rh.size < sizeof(RegionRecord)) return wrong_size("Region");
        Region& r = img->regions_.emplace_back();
        memcpy(&r.rec, p, sizeof(r.rec));
        if (rh.size != sizeof(RegionRecord) + uint64_t{r.rec.path_len}) return wrong_size("Region");
        if (r.rec.path_len) {
          const char* s = p + sizeof(RegionRecord);
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
    if (rec.flags & ~kKnownRegionFlags) return bad(name + ": unknown flags " + hex(rec.flags));
    if (rec.prot & ~kKnownProt) return bad(name + ": unknown protection " + hex(rec.prot));
    if (rec.flags & kRegionNoData) {
      if (rec.data_offset || rec.data_size || rec.crc) return bad(name + ": has data but is marked as having none");
      continue;
    }
    if (rec.data_offset < kHeaderSize || rec.data_offset > h.meta_offset ||
        rec.data_size > h.meta_offset - rec.data_offset || rec.data_size == 0)
      return bad(name + ": data (offset " + std::to_string(rec.data_offset) + ", " +
                 std::to_string(rec.data_size) + " bytes) lies outside the data area");
    if (!img->compressed()) {
      if (rec.data_size != rec.end - rec.start) return bad(name + ": data size does not match region size");
      if (rec.data_offset % h.page_size) return bad(name + ": data not page-aligned in the file");
    } else {
      std::string why;
      if (!for_each_chunk(fd, r, why, [](const ChunkHeader&, uint64_t, uint64_t) { return true; }))
        return bad(why);
    }
  }
  std::vector<const Region*> order;
  for (const Region& r : img->regions_) order.push_back(&r);
  std::sort(order.begin(), order.end(),
            [](const Region* a, const Region* b) { return a->rec.start < b->rec.start; });
  for (size_t i = 1; i < order.size(); i++)
    if (order[i - 1]->rec.end > order[i]->rec.start)
      return bad("regions " + describe(*order[i - 1]) + " and " + describe(*order[i]) + " overlap");
  std::erase_if(order, [](const Region* r) { return r->rec.flags & kRegionNoData; });
  std::sort(order.begin(), order.end(),
            [](const Region* a, const Region* b) { return a->rec.data_offset < b->rec.data_offset; });
  for (size_t i = 1; i < order.size(); i++)
    if (order[i - 1]->rec.data_offset + order[i - 1]->rec.data_size > order[i]->rec.data_offset)
      return bad("data of regions " + describe(*order[i - 1]) + " and " + describe(*order[i]) +
                 " overlap");
  return img;
}

bool ImageReader::verify_data(std::string& error) const {
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

bool ImageReader::read_region(const Region& r, void* dst, std::string& error) const {
  std::string why;
  if (read_checked(*this, r, static_cast<char*>(dst), why)) return true;
  error = "image " + path_ + ": " + why;
  return false;
}

// ---- rendering --------------------------------------------------------------

namespace {

std::string prot_string(const RegionRecord& r) {
  std::string s = "---";
  if (r.prot & PROT_READ) s[0] = 'r';
  if (r.prot & PROT_WRITE) s[1] = 'w';
  if (r.prot & PROT_EXEC) s[2] = 'x';
  s += (r.flags & kRegionShared) ? 's' : 'p';
  return s;
}

std::vector<const char*> region_flag_names(uint32_t f) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kRegionPrivate, "private"}, {kRegionShared, "shared"}, {kRegionAnonymous, "anonymous"},
      {kRegionFile, "file"},       {kRegionHeap, "heap"},     {kRegionStack, "stack"},
      {kRegionVdso, "vdso"},       {kRegionNoData, "nodata"}, {kRegionLost, "lost"}};
  std::vector<const char*> out;
  for (auto [bit, name] : kNames)
    if (f & bit) out.push_back(name);
  return out;
}

std::vector<const char*> thread_flag_names(uint32_t f) {
  std::vector<const char*> out;
  if (f & kThreadLeader) out.push_back("leader");
  if (f & kThreadCheckpointer) out.push_back("checkpointer");
  return out;
}

std::string time_string(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm)) return "?";
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ns % 1000000000 / 1000000));
  return buf;
}

std::string human_size(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  char buf[32];
  if (u == 0) snprintf(buf, sizeof(buf), "%" PRIu64 " B", bytes);
  else snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  return buf;
}

struct Totals {
  uint64_t mapped = 0;  // bytes of all regions
  uint64_t saved = 0;   // bytes of regions that have data
  uint64_t stored = 0;  // bytes their data takes in the file
  double ratio() const { return stored ? static_cast<double>(saved) / stored : 1.0; }
};

Totals totals(const ImageReader& img) {
  Totals t;
  for (const Region& r : img.regions()) {
    t.mapped += r.rec.end - r.rec.start;
    if (!(r.rec.flags & kRegionNoData)) {
      t.saved += r.rec.end - r.rec.start;
      t.stored += r.rec.data_size;
    }
  }
  return t;
}

// A pretty-printing JSON writer; it places commas and indentation.
class Json {
 public:
  Json& begin_object(const char* key = nullptr) { return open(key, '{'); }
  Json& end_object() { return close('}'); }
  Json& begin_array(const char* key = nullptr) { return open(key, '['); }
  Json& end_array() { return close(']'); }

  Json& str(const char* key, std::string_view v) {
    item(key);
    quote(v);
    return *this;
  }
  Json& num(const char* key, uint64_t v) { return raw(key, std::to_string(v)); }
  Json& num(const char* key, int64_t v) { return raw(key, std::to_string(v)); }
  Json& num(const char* key, double v) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%.3f", v);
    return raw(key, buf);
  }
  Json& boolean(const char* key, bool v) { return raw(key, v ? "true" : "false"); }
  Json& addr(const char* key, uint64_t v) { return str(key, hex(v)); }
  Json& names(const char* key, const std::vector<const char*>& v) {
    begin_array(key);
    for (const char* n : v) str(nullptr, n);
    return end_array();
  }

  std::string take() { return std::move(out_) + "\n"; }

 private:
  Json& raw(const char* key, const std::string& v) {
    item(key);
    out_ += v;
    return *this;
  }
  Json& open(const char* key, char c) {
    item(key);
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  Json& close(char c) {
    bool empty = first_.back();
    first_.pop_back();
    if (!empty) newline();
    out_ += c;
    return *this;
  }
  void item(const char* key) {
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
      newline();
    }
    if (key) {
      quote(key);
      out_ += ": ";
    }
  }
  void newline() {
    out_ += '\n';
    out_.append(2 * first_.size(), ' ');
  }
  // JSON strings must be valid UTF-8: paths and names are arbitrary bytes, so
  // bytes that are not part of a valid UTF-8 sequence become \u00XX.
  void quote(std::string_view s) {
    out_ += '"';
    for (size_t i = 0; i < s.size();) {
      auto c = static_cast<unsigned char>(s[i]);
      size_t len = utf8_length(s.substr(i));
      if (len > 1) {
        out_.append(s.substr(i, len));
        i += len;
        continue;
      }
      i++;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        case '\r': out_ += "\\r"; break;
        default:
          if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            snprintf(buf, sizeof(buf), "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += static_cast<char>(c);
          }
      }
    }
    out_ += '"';
  }
  // Length of the valid multi-byte UTF-8 sequence at the start of s, or 1.
  static size_t utf8_length(std::string_view s) {
    auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xc0) == 0x80; };
    unsigned c = b(0);
    if (c >= 0xc2 && c <= 0xdf && cont(1)) return 2;
    if (c >= 0xe0 && c <= 0xef && cont(1) && cont(2)) {
      if ((c == 0xe0 && b(1) < 0xa0) || (c == 0xed && b(1) >= 0xa0)) return 1;  // overlong, surrogate
      return 3;
    }
    if (c >= 0xf0 && c <= 0xf4 && cont(1) && cont(2) && cont(3)) {
      if ((c == 0xf0 && b(1) < 0x90) || (c == 0xf4 && b(1) >= 0x90)) return 1;  // overlong, > U+10FFFF
      return 4;
    }
    return 1;
  }

  std::string out_;
  std::vector<bool> first_;  // per open container: no item written yet
};

}  // namespace

std::string image_to_json(const ImageReader& img) {
  const FileHeader& h = img.header();
  const ProcessRecord& p = img.process();
  Totals t = totals(img);
  Json j;
  j.begin_object()
      .str("image", img.path())
      .num("format_version", uint64_t{h.version})
      .str("arch", arch_name(h.arch))
      .num("page_size", uint64_t{h.page_size})
      .boolean("compressed", img.compressed())
      .num("file_size", h.file_size)
      .num("meta_offset", h.meta_offset)
      .num("meta_size", h.meta_size);
  j.begin_object("process")
      .num("virt_pid", int64_t{p.virt_pid})
      .num("real_pid", int64_t{p.real_pid})
      .num("virt_ppid", int64_t{p.virt_ppid})
      .num("uid", uint64_t{p.uid})
      .num("computation_size", uint64_t{p.computation_size})
      .num("thread_count", uint64_t{p.thread_count})
      .num("generation", p.generation)
      .num("checkpoint_time_ns", int64_t{p.checkpoint_time_ns})
      .str("checkpoint_time", time_string(p.checkpoint_time_ns))
      .addr("restart_info_slot", p.restart_info_slot)
      .addr("start_brk", p.start_brk)
      .addr("brk", p.brk)
      .str("unique_id", p.unique_id)
      .str("progname", p.progname)
      .str("hostname", p.hostname)
      .str("cwd", p.cwd)
      .str("exe", p.exe)
      .end_object();
  j.begin_array("threads");
  for (const ThreadRecord& th : img.threads()) {
    j.begin_object()
        .num("virt_tid", int64_t{th.virt_tid})
        .num("real_tid", int64_t{th.real_tid})
        .names("flags", thread_flag_names(th.flags))
        .addr("fs_base", th.fs_base)
        .addr("clear_child_tid", th.clear_child_tid)
        .addr("robust_list", th.robust_list)
        .num("robust_list_len", th.robust_list_len)
        .addr("rseq_addr", th.rseq_addr)
        .num("rseq_len", uint64_t{th.rseq_len})
        .addr("rseq_sig", th.rseq_sig)
        .addr("sigmask", th.sigmask);
    j.begin_object("context")
        .addr("rip", th.ctx.rip)
        .addr("rsp", th.ctx.rsp)
        .addr("rbp", th.ctx.rbp)
        .addr("rbx", th.ctx.rbx)
        .addr("r12", th.ctx.r12)
        .addr("r13", th.ctx.r13)
        .addr("r14", th.ctx.r14)
        .addr("r15", th.ctx.r15)
        .addr("mxcsr", th.ctx.mxcsr)
        .addr("fpu_cw", th.ctx.fpu_cw)
        .end_object();
    j.end_object();
  }
  j.end_array();
  j.begin_array("regions");
  for (const Region& r : img.regions()) {
    j.begin_object()
        .addr("start", r.rec.start)
        .addr("end", r.rec.end)
        .num("size", r.rec.end - r.rec.start)
        .str("prot", prot_string(r.rec))
        .names("flags", region_flag_names(r.rec.flags))
        .str("path", r.path)
        .num("file_offset", r.rec.file_offset)
        .num("data_offset", r.rec.data_offset)
        .num("data_size", r.rec.data_size)
        .addr("crc", r.rec.crc)
        .end_object();
  }
  j.end_array();
  j.begin_array("sections");
  for (const Section& s : img.sections())
    j.begin_object().str("name", s.name).num("size", uint64_t{s.data.size()}).end_object();
  j.end_array();
  j.begin_object("totals")
      .num("regions", uint64_t{img.regions().size()})
      .num("mapped_bytes", t.mapped)
      .num("saved_bytes", t.saved)
      .num("stored_bytes", t.stored)
      .num("compression_ratio", t.ratio())
      .end_object();
  j.end_object();
  return j.take();
}

std::string image_summary(const ImageReader& img) {
  const FileHeader& h = img.header();
  const ProcessRecord& p = img.process();
  Totals t = totals(img);
  std::string s;
  auto add = [&](const char* fmt, auto... args) {
    size_t old = s.size();
    int n = snprintf(nullptr, 0, fmt, args...);
    s.resize(old + n + 1);
    snprintf(s.data() + old, n + 1, fmt, args...);
    s.resize(old + n);
  };
  add("image %s: format %u, %s, %s, %s (data %s, metadata %s)\n", img.path().c_str(), h.version,
      arch_name(h.arch), img.compressed() ? "lz4-compressed" : "uncompressed",
      human_size(h.file_size).c_str(), human_size(t.stored).c_str(),
      human_size(h.meta_size).c_str());
  add("process %d (real pid %d, parent %d, uid %u): %s\n", p.virt_pid, p.real_pid, p.virt_ppid,
      p.uid, p.progname);
  add("  exe %s\n  cwd %s\n", p.exe, p.cwd);
  add("  host %s, checkpointed %s, generation %" PRIu64 ", one of %u processes, id %s\n",
      p.hostname, time_string(p.checkpoint_time_ns).c_str(), p.generation, p.computation_size,
      p.unique_id);
  add("  brk %s (start %s)\n", hex(p.brk).c_str(), hex(p.start_brk).c_str());
  add("threads (%zu):\n", img.threads().size());
  for (const ThreadRecord& th : img.threads()) {
    std::string flags;
    for (const char* n : thread_flag_names(th.flags)) flags = flags + " " + n;
    add("  tid %d (real %d)%s: rip %s rsp %s fs_base %s\n", th.virt_tid, th.real_tid, flags.c_str(),
        hex(th.ctx.rip).c_str(), hex(th.ctx.rsp).c_str(), hex(th.fs_base).c_str());
  }
  add("regions (%zu, %s mapped, %s saved, %s stored, ratio %.2f):\n", img.regions().size(),
      human_size(t.mapped).c_str(), human_size(t.saved).c_str(), human_size(t.stored).c_str(),
      t.ratio());
  for (const Region& r : img.regions()) {
    std::string flags;
    for (const char* n : region_flag_names(r.rec.flags)) flags += (flags.empty() ? "" : ",") + std::string(n);
    add("  %016" PRIx64 "-%016" PRIx64 " %s %10s  stored %10s  %-24s", r.rec.start, r.rec.end,
        prot_string(r.rec).c_str(), human_size(r.rec.end - r.rec.start).c_str(),
        (r.rec.flags & kRegionNoData) ? "-" : human_size(r.rec.data_size).c_str(), flags.c_str());
    s += r.path;
    if (r.rec.flags & kRegionFile) s += " @" + hex(r.rec.file_offset);
    s += '\n';
  }
  add("sections (%zu):\n", img.sections().size());
  for (const Section& sec : img.sections())
    add("  %-31s %s\n", sec.name.c_str(), human_size(sec.data.size()).c_str());
  return s;
}

}  // namespace ckpt::image
