// Regions that store only some of their pages (format 3): the writer keeps
// the runs it is given, merged where they touch, the reader puts each back at
// its offset and leaves the other pages alone.
#include <gtest/gtest.h>

#include "image_reader.h"
#include "image_test_util.h"

namespace ckpt::image {
namespace {

using namespace test;

constexpr uint64_t kPage = 4096;

class SparseRegion : public ::testing::TestWithParam<bool> {};

TEST_P(SparseRegion, StoresOnlyTheAddedRunsAndReadsThemBackInPlace) {
  TempDir dir;
  // 8 MiB: the middle run crosses the 4 MiB boundary of chunks.
  Mapping m(2048 * kPage);
  fill_random(m.data(), m.size(), 3);
  TestRegion r{region_record(m, kRegionPrivate | kRegionAnonymous), "", m.data(), true,
               // the first two touch: one run of three pages
               {{0, 2 * kPage}, {2 * kPage, kPage}, {10 * kPage, 1100 * kPage}, {2047 * kPage, kPage}}};
  std::string path = dir.file("sparse.ckpt");
  ASSERT_EQ(write_image(path, GetParam(), {r}), "");

  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;
  ASSERT_TRUE(img->verify_data(error)) << error;
  const Region& back = img->regions()[0];
  ASSERT_EQ(back.extents.size(), 3u);
  EXPECT_EQ(back.extents[0].offset, 0u);
  EXPECT_EQ(back.extents[0].size, 3 * kPage);
  EXPECT_EQ(back.extents[1].offset, 10 * kPage);
  EXPECT_EQ(back.extents[2].offset, 2047 * kPage);
  EXPECT_EQ(back.stored_pages(), 1104u);
  EXPECT_EQ(back.pages(), 2048u);
  EXPECT_EQ(back.rec.stored_size, 1104 * kPage);
  if (!GetParam()) {
    // 1104 pages: two chunks, each its raw bytes behind a header (format 5).
    EXPECT_EQ(back.rec.data_size, 1104 * kPage + 2 * sizeof(ChunkHeader)) << "raw: exactly the stored pages";
  }

  std::vector<char> out(m.size(), 0x5a);
  ASSERT_TRUE(img->read_region(back, out.data(), error)) << error;
  for (uint64_t page = 0; page < 2048; ++page) {
    bool stored = page < 3 || (page >= 10 && page < 1110) || page == 2047;
    const char* got = out.data() + page * kPage;
    if (stored) {
      ASSERT_EQ(memcmp(got, m.data() + page * kPage, kPage), 0) << "stored page " << page;
    } else {
      ASSERT_EQ(got[0], 0x5a) << "page " << page << " was not stored and must be left alone";
      ASSERT_EQ(got[kPage - 1], 0x5a) << "page " << page;
    }
  }
}

TEST_P(SparseRegion, RegionWithNoStoredPageHasNoData) {
  TempDir dir;
  Mapping m(16 * kPage);
  std::string path = dir.file("empty.ckpt");
  ASSERT_EQ(write_image(path, GetParam(), {{region_record(m, kRegionPrivate | kRegionAnonymous), "", m.data(), true}}),
            "");
  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;
  const Region& r = img->regions()[0];
  EXPECT_FALSE(r.rec.flags & kRegionNoData) << "zero pages, not unsaved memory";
  EXPECT_EQ(r.rec.data_size, 0u);
  EXPECT_EQ(r.stored_pages(), 0u);
  std::vector<char> out(m.size(), 1);
  ASSERT_TRUE(img->read_region(r, out.data(), error)) << error;
  EXPECT_EQ(out[0], 1);
}

INSTANTIATE_TEST_SUITE_P(Compression, SparseRegion, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lz4" : "Raw"; });

// The checkpoint figures' bytes_raw and bytes_compressed (checkpoint_stats.h).
TEST_P(SparseRegion, WriterCountsTheStoredPagesRawAndAsStored) {
  TempDir dir;
  Mapping random(300 * kPage), text(200 * kPage);
  fill_random(random.data(), random.size(), 5);
  for (uint64_t i = 0; i < text.size(); ++i) text.data()[i] = "all work and no play\n"[i % 21];
  RegionRecord r1 = region_record(random, kRegionPrivate | kRegionAnonymous);
  RegionRecord r2 = region_record(text, kRegionPrivate | kRegionAnonymous);
  ImageWriter w;
  ASSERT_TRUE(w.open(dir.file("count.ckpt").c_str(), GetParam()));
  ASSERT_TRUE(w.begin_region(r1, nullptr));
  ASSERT_TRUE(w.add_pages(0, random.data(), 10 * kPage));
  ASSERT_TRUE(w.add_pages(100 * kPage, random.data() + 100 * kPage, 50 * kPage));
  EXPECT_EQ(w.pages_raw_bytes(), 0u) << "counted when the region ends";
  ASSERT_TRUE(w.end_region());
  EXPECT_EQ(w.pages_raw_bytes(), 60 * kPage);
  ASSERT_TRUE(w.add_region(r2, nullptr, text.data()));
  EXPECT_EQ(w.pages_raw_bytes(), 260 * kPage);
  if (GetParam()) {
    // Random pages stay their size (with chunk headers), the text shrinks.
    EXPECT_GT(w.pages_stored_bytes(), 60 * kPage);
    EXPECT_LT(w.pages_stored_bytes(), 260 * kPage);
  } else {
    // The raw bytes, one chunk (16-byte header) per region (format 5).
    EXPECT_EQ(w.pages_stored_bytes(), 260 * kPage + 2 * sizeof(ChunkHeader));
  }
}

TEST(SparseRegionWriter, RefusesRunsOutOfOrderOrOutsideTheRegion) {
  TempDir dir;
  Mapping m(8 * kPage);
  RegionRecord rec = region_record(m, kRegionPrivate | kRegionAnonymous);
  std::string path = dir.file("x.ckpt");
  auto expect_refused = [&](uint64_t first_offset, uint64_t offset, uint64_t size) {
    ImageWriter w;
    ASSERT_TRUE(w.open(path.c_str(), false));
    ASSERT_TRUE(w.begin_region(rec, nullptr));
    if (first_offset != ~0ull) {
      ASSERT_TRUE(w.add_pages(first_offset, m.data(), kPage)) << w.error();
    }
    EXPECT_FALSE(w.add_pages(offset, m.data(), size)) << offset << "+" << size;
    EXPECT_NE(std::string(w.error()).find("after the pages added before"), std::string::npos) << w.error();
    EXPECT_TRUE(dir.entries().empty()) << "a failed call drops the temporary file";
  };
  expect_refused(~0ull, 100, kPage);            // not page-aligned
  expect_refused(~0ull, 0, 0);                  // empty
  expect_refused(~0ull, 7 * kPage, 2 * kPage);  // past the region's end
  expect_refused(4 * kPage, 2 * kPage, kPage);  // before the previous run
  expect_refused(4 * kPage, 4 * kPage, kPage);  // the same page again

  ImageWriter w;
  ASSERT_TRUE(w.open(path.c_str(), false));
  ProcessRecord p = test_process(0);
  ASSERT_TRUE(w.add_record(RecordType::Process, &p, sizeof p));
  ASSERT_TRUE(w.begin_region(rec, nullptr));
  EXPECT_FALSE(w.commit());
  EXPECT_NE(std::string(w.error()).find("not ended"), std::string::npos) << w.error();
}

}  // namespace
}  // namespace ckpt::image
