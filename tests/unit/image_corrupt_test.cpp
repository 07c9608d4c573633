// Bad images are refused with a reason that names the image and the problem,
// before restart would touch anything; never a crash.
#include <gtest/gtest.h>

#include <functional>

#include "crc32c.h"
#include "image_reader.h"
#include "image_test_util.h"

namespace ckpt::image {
namespace {

using namespace test;
using Bytes = std::vector<char>;

FileHeader header_of(const Bytes& b) {
  FileHeader h;
  memcpy(&h, b.data(), sizeof(h));
  return h;
}

// Stores h into b with a correct header checksum.
void reseal(Bytes& b, FileHeader h) {
  h.header_crc = 0;
  h.header_crc = crc32c(0, &h, sizeof(h));
  memcpy(b.data(), &h, sizeof(h));
}

// Lets `edit` change the metadata, then fixes sizes and checksums so that
// only the edit itself is wrong.
void patch_meta(Bytes& b, const std::function<void(Bytes&)>& edit) {
  FileHeader h = header_of(b);
  Bytes meta(b.begin() + h.meta_offset, b.end());
  edit(meta);
  b.resize(h.meta_offset);
  b.insert(b.end(), meta.begin(), meta.end());
  h.meta_size = meta.size();
  h.file_size = b.size();
  h.meta_crc = crc32c(0, meta.data(), meta.size());
  reseal(b, h);
}

// Offsets in the metadata of the records of one type (at their RecordHeader).
std::vector<size_t> records(const Bytes& meta, RecordType type) {
  std::vector<size_t> out;
  for (size_t pos = 0; pos + sizeof(RecordHeader) <= meta.size();) {
    RecordHeader rh;
    memcpy(&rh, meta.data() + pos, sizeof(rh));
    if (rh.type == static_cast<uint32_t>(type)) out.push_back(pos);
    pos += sizeof(rh) + ((rh.size + 7) & ~7u);
  }
  return out;
}

template <typename T>
void edit_payload(Bytes& meta, size_t record, const std::function<void(T&)>& f) {
  T v;
  memcpy(&v, meta.data() + record + sizeof(RecordHeader), sizeof(v));
  f(v);
  memcpy(meta.data() + record + sizeof(RecordHeader), &v, sizeof(v));
}

class CorruptImage : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    good_path_ = dir_.file("good.ckpt");
    ASSERT_EQ(write_image(good_path_, GetParam(), regions_.regions(), standard_sections(),
                          standard_threads()),
              "");
    good_ = read_file(good_path_);
  }

  // Opens `b` (and checks its data if open accepts it): returns the error, or
  // "" if the image passed.
  std::string check(const Bytes& b) {
    std::string path = dir_.file("bad.ckpt");
    write_file(path, b);
    std::string error;
    auto img = ImageReader::open(path, error);
    if (img && img->verify_data(error)) return "";
    EXPECT_EQ(error.rfind("image " + path + ": ", 0), 0u) << "names the image: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
    return error;
  }

  void expect_rejected(const Bytes& b, const std::string& reason) {
    std::string error = check(b);
    EXPECT_NE(error.find(reason), std::string::npos) << "got \"" << error << "\", want \"" << reason << "\"";
  }

  TempDir dir_;
  StandardRegions regions_;
  std::string good_path_;
  Bytes good_;
};

TEST_P(CorruptImage, GoodImagePasses) { EXPECT_EQ(check(good_), ""); }

TEST_P(CorruptImage, RejectsMissingAndEmptyFiles) {
  std::string error;
  std::string missing = dir_.file("nope.ckpt");
  EXPECT_FALSE(ImageReader::open(missing, error));
  EXPECT_EQ(error, "image " + missing + ": cannot open: No such file or directory");
  expect_rejected({}, "empty file");
  EXPECT_FALSE(ImageReader::open(dir_.path(), error));
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
}

TEST_P(CorruptImage, RejectsFilesThatAreNotImages) {
  Bytes random(10000);
  fill_random(random.data(), random.size(), 5);
  expect_rejected(random, "not a ckpt image (bad magic)");
  expect_rejected({'C', 'K'}, "not a ckpt image (bad magic)");
  Bytes text(5000, 'x');
  expect_rejected(text, "not a ckpt image (bad magic)");
  Bytes b = good_;
  b[3] ^= 0x20;
  expect_rejected(b, "bad magic");
}

TEST_P(CorruptImage, RejectsTruncationAnywhere) {
  size_t meta_offset = header_of(good_).meta_offset;
  for (size_t cut : {size_t{9}, size_t{100}, size_t{4095}}) {
    expect_rejected(Bytes(good_.begin(), good_.begin() + cut), "truncated (" + std::to_string(cut) + " bytes, shorter than the 4096-byte header)");
  }
  for (size_t cut : {size_t{4096}, size_t{4096 + 4096 * 2 + 5}, meta_offset / 2, meta_offset,
                     meta_offset + 10, good_.size() - 1}) {
    expect_rejected(Bytes(good_.begin(), good_.begin() + cut),
                    "truncated (" + std::to_string(cut) + " of " + std::to_string(good_.size()) + " bytes)");
  }
  Bytes longer = good_;
  longer.push_back(0);
  expect_rejected(longer, "its header says " + std::to_string(good_.size()));
}

TEST_P(CorruptImage, RejectsOtherVersionsAndArchitectures) {
  Bytes b = good_;
  FileHeader h = header_of(b);
  h.version = 7;
  reseal(b, h);
  expect_rejected(b, "format version 7, this ckpt reads version " + std::to_string(kFormatVersion));
  b = good_;
  h = header_of(b);
  h.arch = 183;
  reseal(b, h);
  expect_rejected(b, "another architecture (ELF machine 183, aarch64), this ckpt runs on x86-64");
  b = good_;
  h = header_of(b);
  h.page_size = 16384;
  reseal(b, h);
  expect_rejected(b, "page size 16384");
  b = good_;
  h = header_of(b);
  h.flags |= 0x10;
  reseal(b, h);
  expect_rejected(b, "unknown file flags 0x1");
}

TEST_P(CorruptImage, DetectsAFlippedBitInHeaderFields) {
  // Every bit of the header after magic/version/arch (checked by name first).
  for (size_t byte = offsetof(FileHeader, page_size); byte < offsetof(FileHeader, header_crc) + 4; byte++) {
    for (int bit = 0; bit < 8; bit += 3) {
      Bytes b = good_;
      b[byte] ^= static_cast<char>(1 << bit);
      expect_rejected(b, "header checksum mismatch");
    }
  }
}

TEST_P(CorruptImage, DetectsAFlippedBitInMetadata) {
  FileHeader h = header_of(good_);
  for (size_t off = 0; off < h.meta_size; off += 997) {
    Bytes b = good_;
    b[h.meta_offset + off] ^= 0x04;
    expect_rejected(b, "metadata checksum mismatch");
  }
}

TEST_P(CorruptImage, NamesTheRegionWhoseDataIsCorrupt) {
  std::string error;
  auto img = ImageReader::open(good_path_, error);
  ASSERT_TRUE(img) << error;
  for (const Region& r : img->regions()) {
    if (r.rec.flags & kRegionNoData) continue;
    char name[64];
    snprintf(name, sizeof(name), "0x%lx-0x%lx", r.rec.start, r.rec.end);
    std::string want = "checksum mismatch in region " + std::string(name) +
                       (r.path.empty() ? "" : " " + r.path);
    // First byte after the first chunk's header, the middle, and the last byte.
    uint64_t first = r.rec.data_offset + sizeof(ChunkHeader);
    for (uint64_t at : {first, r.rec.data_offset + r.rec.data_size / 2 + 1,
                        r.rec.data_offset + r.rec.data_size - 1}) {
      Bytes b = good_;
      b[at] ^= 0x40;
      std::string got = check(b);
      // A flip that lands in a later chunk's header breaks the chain instead.
      bool ok = got.find(want) != std::string::npos || got.find("inconsistent header") != std::string::npos ||
                (GetParam() && got.find("corrupt compressed data") != std::string::npos);
      EXPECT_TRUE(ok) << "flip at " << at << ": got \"" << got << "\", want \"" << want << "\"";

      // read_region refuses the same bytes.
      write_file(dir_.file("bad.ckpt"), b);
      auto bad = ImageReader::open(dir_.file("bad.ckpt"), error);
      if (!bad) continue;
      const Region& br = bad->regions()[&r - img->regions().data()];
      std::vector<char> out(r.rec.end - r.rec.start);
      EXPECT_FALSE(bad->read_region(br, out.data(), error));
    }
  }
}

TEST_P(CorruptImage, RejectsMalformedRecordsEvenWithValidChecksums) {
  auto rejected_after = [&](const std::function<void(Bytes&)>& edit, const std::string& reason) {
    Bytes b = good_;
    patch_meta(b, edit);
    expect_rejected(b, reason);
  };
  rejected_after([](Bytes& m) { m.resize(m.size() - sizeof(RecordHeader)); }, "no End record");
  rejected_after([](Bytes& m) { m.push_back(0); }, "after the End record");
  rejected_after(
      [](Bytes& m) {
        size_t p = records(m, RecordType::Process)[0];
        Bytes copy(m.begin() + p, m.begin() + p + sizeof(RecordHeader) + sizeof(ProcessRecord));
        m.insert(m.begin(), copy.begin(), copy.end());
      },
      "2 Process records, expected exactly one");
  rejected_after(
      [](Bytes& m) {
        size_t p = records(m, RecordType::Process)[0];
        m.erase(m.begin() + p, m.begin() + p + sizeof(RecordHeader) + sizeof(ProcessRecord));
      },
      "0 Process records");
  rejected_after(
      [](Bytes& m) { edit_payload<ProcessRecord>(m, records(m, RecordType::Process)[0], [](auto& p) { p.thread_count = 9; }); },
      "Process record counts 9 threads, the image has 3");
  rejected_after(
      [](Bytes& m) { edit_payload<ProcessRecord>(m, records(m, RecordType::Process)[0], [](auto& p) { memset(p.cwd, 'a', sizeof(p.cwd)); }); },
      "unterminated string");
  rejected_after([](Bytes& m) { m[records(m, RecordType::Thread)[0]] = 42; }, "unknown record type 42");
  rejected_after(
      [](Bytes& m) {
        RecordHeader rh{static_cast<uint32_t>(RecordType::Thread), 1000000};
        memcpy(m.data() + records(m, RecordType::Thread)[0], &rh, sizeof(rh));
      },
      "runs past the metadata");
  rejected_after(
      [](Bytes& m) {
        RecordHeader rh{static_cast<uint32_t>(RecordType::Thread), 8};
        memcpy(m.data() + records(m, RecordType::Thread)[0], &rh, sizeof(rh));
      },
      "Thread record at metadata offset");
  rejected_after(
      [](Bytes& m) { edit_payload<RegionRecord>(m, records(m, RecordType::Region)[0], [](auto& r) { r.start += 8; }); },
      "bounds not page-aligned or empty");
  rejected_after(
      [](Bytes& m) { edit_payload<RegionRecord>(m, records(m, RecordType::Region)[0], [](auto& r) { r.end = r.start; }); },
      "bounds not page-aligned or empty");
  rejected_after(
      [](Bytes& m) { edit_payload<RegionRecord>(m, records(m, RecordType::Region)[0], [](auto& r) { r.data_offset += 1ull << 40; }); },
      "lies outside the data area");
  rejected_after(
      [](Bytes& m) { edit_payload<RegionRecord>(m, records(m, RecordType::Region)[0], [](auto& r) { r.flags |= 1u << 20; }); },
      "unknown flags");
  rejected_after(
      [](Bytes& m) {
        auto regs = records(m, RecordType::Region);
        RegionRecord first;
        memcpy(&first, m.data() + regs[0] + sizeof(RecordHeader), sizeof(first));
        edit_payload<RegionRecord>(m, regs[2], [&](auto& r) { r.end = r.end - r.start + first.start; r.start = first.start; });
      },
      "overlap");
  rejected_after(
      [](Bytes& m) { edit_payload<RegionRecord>(m, records(m, RecordType::Region)[3], [](auto& r) { r.data_size = 4096; }); },
      "marked as having none");
  rejected_after(
      [](Bytes& m) { edit_payload<RegionRecord>(m, records(m, RecordType::Region)[4], [](auto& r) { r.path_len -= 1; }); },
      "Region record at metadata offset");
  rejected_after(
      [](Bytes& m) {
        size_t s = records(m, RecordType::Section)[0] + sizeof(RecordHeader);
        memset(m.data() + s, 'n', 32);
      },
      "Section record at metadata offset");
  // Raw images are chunked too (format 5): the same checks for both.
  rejected_after(
      [](Bytes& m) { edit_payload<RegionRecord>(m, records(m, RecordType::Region)[0], [](auto& r) { r.data_size += 8; }); },
      "does not match its chunks");
  rejected_after(
      [](Bytes& m) { edit_payload<RegionRecord>(m, records(m, RecordType::Region)[0], [](auto& r) { r.data_offset += 8; }); },
      "overlap");
}

// The stored page runs of a region: restart maps or copies each one to its
// offset, so every run must lie in the region, page-aligned, in order.
TEST_P(CorruptImage, RejectsBadPageRuns) {
  Mapping m(16 * 4096);
  fill_random(m.data(), m.size(), 5);
  std::string path = dir_.file("sparse.ckpt");
  ASSERT_EQ(write_image(path, GetParam(),
                        {{region_record(m, kRegionPrivate | kRegionAnonymous), "", m.data(), true,
                          {{0, 4096}, {4 * 4096, 2 * 4096}}}},
                        {}, standard_threads()),
            "");
  const Bytes sparse = read_file(path);
  ASSERT_EQ(check(sparse), "");
  // Edits run i of the first region; fixes nothing else.
  auto run_edited = [&](int i, const std::function<void(PageExtent&)>& f, const std::string& reason) {
    Bytes b = sparse;
    patch_meta(b, [&](Bytes& meta) {
      size_t at = records(meta, RecordType::Region)[0] + sizeof(RecordHeader) + sizeof(RegionRecord) +
                  i * sizeof(PageExtent);
      PageExtent e;
      memcpy(&e, meta.data() + at, sizeof e);
      f(e);
      memcpy(meta.data() + at, &e, sizeof e);
    });
    expect_rejected(b, reason);
  };
  const std::string misplaced = "is not page-aligned, inside the region and after the previous one";
  run_edited(0, [](PageExtent& e) { e.offset += 8; }, "stored page run 0 (+0x8, 4096 bytes) " + misplaced);
  run_edited(1, [](PageExtent& e) { e.size = 0; }, "stored page run 1 " );
  run_edited(1, [](PageExtent& e) { e.size = 13 * 4096; }, misplaced);
  run_edited(1, [](PageExtent& e) { e.offset = ~0ull & ~4095ull; }, misplaced);
  run_edited(1, [](PageExtent& e) { e.offset = 0; }, misplaced);     // overlaps run 0
  run_edited(1, [](PageExtent& e) { e.offset = 4096; }, misplaced);  // touches run 0: one run
  auto record_edited = [&](const std::function<void(RegionRecord&)>& f, const std::string& reason) {
    Bytes b = sparse;
    patch_meta(b, [&](Bytes& meta) { edit_payload<RegionRecord>(meta, records(meta, RecordType::Region)[0], f); });
    expect_rejected(b, reason);
  };
  record_edited([](RegionRecord& r) { r.stored_size += 4096; }, "stored page runs add up to 12288 bytes, the record says 16384");
  record_edited([](RegionRecord& r) { r.extent_count += 1; }, "Region record at metadata offset");
  record_edited([](RegionRecord& r) { r.extent_count = 0x10000000; }, "Region record at metadata offset");
  record_edited([](RegionRecord& r) { r.flags |= kRegionFileBacked; }, "file-backed but not a private mapping of a file");
  record_edited([](RegionRecord& r) { r.file_ino = 5; }, "records a file identity but is not file-backed");
  record_edited([](RegionRecord& r) { r.flags |= kRegionNoData; }, "has data but is marked as having none");
}

TEST_P(CorruptImage, RejectsAnInconsistentChunkChain) {
  TempDir dir;
  StandardRegions regions;
  std::string path = dir.file("z.ckpt");
  ASSERT_EQ(write_image(path, GetParam(), regions.regions()), "");
  Bytes good = read_file(path);
  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;
  const Region& random = img->regions()[1];  // the random region: two chunks
  ASSERT_EQ(random.chunks.size(), 2u);
  uint64_t chunk = random.rec.data_offset;
  // A header in the blob that differs from the metadata's copy (the chunk
  // index, which open() trusts: it reads no chunk) is refused when the
  // chunk is read.
  for (size_t field = 0; field < 4; field++) {
    Bytes b = good;
    b[chunk + field * 4] ^= 0x01;
    write_file(path, b);
    auto bad = ImageReader::open(path, error);
    ASSERT_TRUE(bad) << error;
    EXPECT_FALSE(bad->verify_data(error)) << "field " << field;
    EXPECT_NE(error.find("has an inconsistent header"), std::string::npos) << error;
    std::vector<char> raw(kChunkSize), scratch;
    ImageReader::Chunk c{chunk + sizeof(ChunkHeader), 0, bad->regions()[1].chunks[0]};
    EXPECT_FALSE(bad->read_chunk(bad->regions()[1], c, raw.data(), scratch, error)) << "field " << field;
    EXPECT_NE(error.find("inconsistent chunk header"), std::string::npos) << error;
  }
  // The index itself (checksummed with the metadata) must tile the blob.
  auto index_edited = [&](const std::function<void(ChunkHeader*)>& edit, const std::string& reason) {
    Bytes b = good;
    patch_meta(b, [&](Bytes& m) {
      size_t at = records(m, RecordType::Region)[1] + sizeof(RecordHeader) + sizeof(RegionRecord) +
                  (random.rec.extent_count + random.rec.inherit_count) * sizeof(PageExtent);
      edit(reinterpret_cast<ChunkHeader*>(m.data() + at));
    });
    write_file(path, b);
    EXPECT_FALSE(ImageReader::open(path, error)) << reason;
    EXPECT_NE(error.find(reason), std::string::npos) << error;
  };
  index_edited([](ChunkHeader* h) { h[0].raw_size -= 4096; }, "has an inconsistent header");
  index_edited([](ChunkHeader* h) { h[0].stored_size -= 1; }, "has an inconsistent header");
  index_edited([](ChunkHeader* h) { h[0].flags ^= kChunkStored; }, "has an inconsistent header");
  index_edited([](ChunkHeader* h) { h[1].stored_size = 1u << 30; }, "inconsistent header");
}

TEST_P(CorruptImage, NeverAcceptsOrCrashesOnAnySingleByteChange) {
  // Bytes outside the checksummed areas (the header's padding, alignment gaps
  // between raw blobs) may change harmlessly; everything else must be caught.
  // A small image, so that thousands of variants stay quick.
  Mapping text(3 * 4096), random(2 * 4096), zeros(4096), guard(4096);
  fill_text(text.data(), text.size());
  fill_random(random.data(), random.size(), 4);
  std::vector<TestRegion> small = {
      {region_record(text, kRegionPrivate | kRegionAnonymous | kRegionHeap), "[heap]", text.data()},
      {region_record(random, kRegionPrivate | kRegionAnonymous), "", random.data()},
      {region_record(zeros, kRegionPrivate | kRegionAnonymous), "", zeros.data()},
      {region_record(guard, kRegionPrivate | kRegionAnonymous, 0), "", nullptr}};
  ASSERT_EQ(write_image(good_path_, GetParam(), small, {{"fd", {'a', 'b'}}}, standard_threads()), "");
  good_ = read_file(good_path_);
  std::string error;
  auto img = ImageReader::open(good_path_, error);
  ASSERT_TRUE(img) << error;
  FileHeader h = header_of(good_);
  auto covered = [&](uint64_t at) {
    if (at < sizeof(FileHeader) || at >= h.meta_offset) return true;
    for (const Region& r : img->regions())
      if (at >= r.rec.data_offset && at < r.rec.data_offset + r.rec.data_size) return true;
    return false;
  };
  for (uint64_t at = 0; at < good_.size(); at += (at < 4096 || at >= h.meta_offset) ? 7 : 61) {
    Bytes b = good_;
    b[at] = static_cast<char>(b[at] ^ 0x5a);
    std::string got = check(b);
    if (covered(at)) {
      EXPECT_NE(got, "") << "change at " << at << " went unnoticed";
    }
    if (got.empty()) {
      auto again = ImageReader::open(dir_.file("bad.ckpt"), error);
      ASSERT_TRUE(again);
      for (const Region& r : again->regions()) {
        if (r.rec.flags & kRegionNoData) continue;
        std::vector<char> out(r.rec.end - r.rec.start);
        EXPECT_TRUE(again->read_region(r, out.data(), error)) << error;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Compression, CorruptImage, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lz4" : "Raw"; });

}  // namespace
}  // namespace ckpt::image
