// Writer → reader round trips: everything written comes back byte for byte.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cctype>
#include <cstddef>

#include "crc32c.h"
#include "image_info.h"
#include "image_reader.h"
#include "image_test_util.h"
#include "section_schema.h"

namespace ckpt::image {
namespace {

using namespace test;

// True if every byte of s is part of valid UTF-8 (what JSON text must be).
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; k++)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

class ImageRoundTrip : public ::testing::TestWithParam<bool> {
 protected:
  bool compress() const { return GetParam(); }
  TempDir dir_;
  StandardRegions regions_;
};

TEST_P(ImageRoundTrip, GivesBackEveryRecordAndByte) {
  std::string path = dir_.file("ckpt_a.ckpt");
  auto sections = standard_sections();
  auto threads = standard_threads();
  ASSERT_EQ(write_image(path, compress(), regions_.regions(), sections, threads), "");
  EXPECT_EQ(dir_.entries(), std::vector<std::string>{"ckpt_a.ckpt"});

  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;
  EXPECT_EQ(img->compressed(), compress());
  ProcessRecord want = test_process(3);
  EXPECT_EQ(memcmp(&img->process(), &want, sizeof(want)), 0);
  ASSERT_EQ(img->threads().size(), threads.size());
  for (size_t i = 0; i < threads.size(); i++)
    EXPECT_EQ(memcmp(&img->threads()[i], &threads[i], sizeof(ThreadRecord)), 0) << i;
  ASSERT_EQ(img->sections().size(), sections.size());
  for (size_t i = 0; i < sections.size(); i++) {
    EXPECT_EQ(img->sections()[i].name, sections[i].name);
    EXPECT_EQ(std::vector<char>(img->sections()[i].data.begin(), img->sections()[i].data.end()),
              sections[i].data);
  }

  ASSERT_EQ(img->regions().size(), regions_.regions().size());
  EXPECT_TRUE(img->verify_data(error)) << error;
  for (size_t i = 0; i < regions_.regions().size(); i++) {
    const TestRegion& w = regions_.regions()[i];
    const Region& r = img->regions()[i];
    EXPECT_EQ(r.path, w.path);
    EXPECT_EQ(r.rec.start, w.rec.start);
    EXPECT_EQ(r.rec.end, w.rec.end);
    EXPECT_EQ(r.rec.prot, w.rec.prot);
    EXPECT_EQ(r.rec.file_offset, w.rec.file_offset);
    EXPECT_EQ(r.rec.flags, w.rec.flags);
    if (!w.data) {
      EXPECT_EQ(r.rec.data_size, 0u);
      EXPECT_FALSE(img->read_region(r, nullptr, error));
      EXPECT_NE(error.find("has no saved data"), std::string::npos) << error;
      continue;
    }
    std::vector<char> back(r.rec.end - r.rec.start);
    ASSERT_TRUE(img->read_region(r, back.data(), error)) << error;
    EXPECT_EQ(memcmp(back.data(), w.data, back.size()), 0) << "region " << i;
  }
}

TEST_P(ImageRoundTrip, HandlesImageWithoutRegionsOrSections) {
  std::string path = dir_.file("empty.ckpt");
  ASSERT_EQ(write_image(path, compress(), {}), "");
  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;
  EXPECT_TRUE(img->regions().empty());
  EXPECT_TRUE(img->sections().empty());
  EXPECT_TRUE(img->threads().empty());
  EXPECT_TRUE(img->verify_data(error)) << error;
}

TEST_P(ImageRoundTrip, RendersValidJsonAndSummary) {
  std::string path = dir_.file("ckpt_json.ckpt");
  ASSERT_EQ(write_image(path, compress(), regions_.regions(), standard_sections(), standard_threads()), "");
  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;

  std::string text = json_text(Json::array({image_json(*img)}));
  EXPECT_TRUE(valid_utf8(text));
  Json all = Json::parse(text);  // throws unless it is JSON
  ASSERT_TRUE(all.is_array());
  ASSERT_EQ(all.size(), 1u);
  const Json& j = all[0];
  // Quotes, backslash and tab kept; the stray 0xff replaced; valid UTF-8 (é) kept.
  bool found = false;
  for (const Json& r : j["regions"])
    found |= r["path"] == "/opt/my lib/\"odd\"\\name\t\xef\xbf\xbd\xc3\xa9.so";
  EXPECT_TRUE(found) << text;
  EXPECT_EQ(j["process"]["progname"], "app \"quoted\"");
  EXPECT_EQ(j["process"]["checkpoint_time"], "2023-11-14T22:13:20.123Z");
  EXPECT_TRUE(j["regions"][0]["flags"].is_array());
  EXPECT_EQ(j["header_fields"]["version"]["offset"], offsetof(FileHeader, version));
  ASSERT_EQ(j["sections"].size(), 3u);
  // No kind knows "fd" or "pipe-data-...": shown in hex, capped.
  EXPECT_TRUE(j["sections"][0]["schema"].is_null());
  EXPECT_EQ(j["sections"][0]["hex"], "616263");
  EXPECT_EQ(j["sections"][2]["name"], "pipe-data-0123456789abcdefghij");
  EXPECT_EQ(j["sections"][2]["hex_shown"], kHexShown);
  EXPECT_EQ(j["sections"][2]["hex_truncated"], true);
  // An empty "timer" section is an error entry of its kind, not a crash.
  EXPECT_EQ(j["sections"][1]["schema"], "timer");
  EXPECT_TRUE(j["sections"][1].contains("error")) << j["sections"][1];

  std::string summary = image_summary(*img);
  EXPECT_NE(summary.find("process 4242 (real pid 777"), std::string::npos) << summary;
  EXPECT_NE(summary.find("threads (3)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("regions (5"), std::string::npos) << summary;
  EXPECT_NE(summary.find("[heap]"), std::string::npos) << summary;
  EXPECT_NE(summary.find("sections (3)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("timer (0 B): cannot decode"), std::string::npos) << summary;
  EXPECT_NE(summary.find("2023-11-14T22:13:20.123Z"), std::string::npos) << summary;
  EXPECT_NE(summary.find(compress() ? "lz4-compressed" : "uncompressed"), std::string::npos) << summary;
}

INSTANTIATE_TEST_SUITE_P(Compression, ImageRoundTrip, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lz4" : "Raw"; });

// Format 5: an uncompressed region's data is chunks too, every one stored
// as is behind its header (checksum of its bytes), so that a restart can
// load and check each on its own.
TEST(ImageWriterRaw, StoresEveryChunkAsIsWithItsOwnChecksum) {
  TempDir dir;
  StandardRegions regions;
  std::string path = dir.file("raw.ckpt");
  ASSERT_EQ(write_image(path, false, regions.regions()), "");
  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;
  EXPECT_FALSE(img->compressed());
  for (size_t i = 0; i < img->regions().size(); i++) {
    const Region& r = img->regions()[i];
    if (r.rec.flags & kRegionNoData) continue;
    const uint64_t size = r.rec.end - r.rec.start;
    const uint64_t nchunks = (size + kChunkSize - 1) / kChunkSize;
    EXPECT_EQ(r.rec.data_size, size + nchunks * sizeof(ChunkHeader)) << i;
    std::vector<ImageReader::Chunk> chunks;
    ASSERT_TRUE(img->chunks(r, chunks, error)) << error;
    ASSERT_EQ(chunks.size(), nchunks) << i;
    std::vector<char> raw(kChunkSize), scratch;
    const char* saved = static_cast<const char*>(regions.regions()[i].data);
    for (const ImageReader::Chunk& c : chunks) {
      EXPECT_EQ(c.header.flags, uint32_t{kChunkStored});
      EXPECT_EQ(c.header.stored_size, c.header.raw_size);
      EXPECT_EQ(c.header.crc, crc32c(0, saved + c.raw_offset, c.header.raw_size));
      ASSERT_TRUE(img->read_chunk(r, c, raw.data(), scratch, error)) << error;
      EXPECT_EQ(memcmp(raw.data(), saved + c.raw_offset, c.header.raw_size), 0) << i;
    }
  }
}

TEST(ImageWriterLz4, StoresIncompressibleChunksRawAndShrinksTheRest) {
  TempDir dir;
  StandardRegions regions;
  std::string path = dir.file("z.ckpt");
  ASSERT_EQ(write_image(path, true, regions.regions()), "");
  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;
  const Region& text = img->regions()[0];
  const Region& random = img->regions()[1];
  const Region& zeros = img->regions()[2];
  EXPECT_LT(text.rec.data_size, (text.rec.end - text.rec.start) / 4);
  EXPECT_LT(zeros.rec.data_size, 200u);
  // Two chunks stored raw: their bytes plus one header each.
  EXPECT_EQ(random.rec.data_size, random.rec.end - random.rec.start + 2 * sizeof(ChunkHeader));
  ChunkHeader h;
  ASSERT_EQ(pread(img->fd(), &h, sizeof(h), random.rec.data_offset), static_cast<ssize_t>(sizeof(h)));
  EXPECT_EQ(h.flags, uint32_t{kChunkStored});
  EXPECT_EQ(h.raw_size, kChunkSize);
}

TEST(ImageWriter, RejectsMisuseWithReason) {
  TempDir dir;
  Mapping m(4096);
  ImageWriter w;
  std::string path = dir.file("x.ckpt");
  ASSERT_TRUE(w.open(path.c_str(), false));
  RegionRecord bad = region_record(m, kRegionPrivate);
  bad.end -= 100;
  EXPECT_FALSE(w.add_region(bad, nullptr, m.data()));
  EXPECT_NE(std::string(w.error()).find("must be page-aligned"), std::string::npos) << w.error();
  EXPECT_TRUE(dir.entries().empty()) << "a failed call drops the temporary file";

  ASSERT_TRUE(w.open(path.c_str(), false));
  EXPECT_FALSE(w.commit());
  EXPECT_NE(std::string(w.error()).find("exactly one Process record"), std::string::npos) << w.error();

  ASSERT_TRUE(w.open(path.c_str(), false));
  ProcessRecord p = test_process(2);
  ASSERT_TRUE(w.add_record(RecordType::Process, &p, sizeof(p)));
  EXPECT_FALSE(w.commit());
  EXPECT_NE(std::string(w.error()).find("thread_count"), std::string::npos) << w.error();

  ASSERT_TRUE(w.open(path.c_str(), false));
  EXPECT_FALSE(w.add_section("a-name-that-is-longer-than-31-bytes", "", 0));
  EXPECT_NE(std::string(w.error()).find("section name"), std::string::npos) << w.error();
  EXPECT_FALSE(w.add_record(RecordType::Process, &p, sizeof(p))) << "no calls after a failure";
  EXPECT_NE(std::string(w.error()).find("section name"), std::string::npos) << "first cause kept";
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ImageWriter, WritesLargeRegionsInPieces) {
  // Bigger than the writer's slices and several chunks: exercises the loops.
  TempDir dir;
  Mapping big(40u << 20);
  fill_random(big.data(), big.size(), 9);
  fill_text(big.data() + (8u << 20), 16u << 20);
  for (bool compress : {false, true}) {
    std::string path = dir.file(compress ? "big.z" : "big.raw");
    ASSERT_EQ(write_image(path, compress, {{region_record(big, kRegionPrivate | kRegionAnonymous), "", big.data()}}), "");
    std::string error;
    auto img = ImageReader::open(path, error);
    ASSERT_TRUE(img) << error;
    std::vector<char> back(big.size());
    ASSERT_TRUE(img->read_region(img->regions()[0], back.data(), error)) << error;
    EXPECT_EQ(memcmp(back.data(), big.data(), big.size()), 0);
  }
}

}  // namespace
}  // namespace ckpt::image
