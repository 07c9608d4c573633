// Incremental images (format 4): a child names its parent by file name and
// identity, stores some pages and inherits others, and the reader assembles
// the chain (the parent's pages first, the child's over them) or refuses a
// chain that does not hold together.
#include <gtest/gtest.h>

#include "image_reader.h"
#include "image_test_util.h"

namespace ckpt::image {
namespace {

using namespace test;

constexpr uint64_t kPage = 4096;

ProcessRecord process_of(uint64_t generation) {
  ProcessRecord p = test_process(0);
  p.generation = generation;
  return p;
}

uint64_t image_id_of(const std::string& path) {
  std::string error;
  auto img = ImageReader::open(path, error);
  EXPECT_TRUE(img) << error;
  return img ? img->header().image_id : 0;
}

// One image: `stored` runs of `data` (offsets in the region at `start`),
// `inherited` runs, the lineage given.
std::string write_one(const std::string& path, bool compress, uint64_t generation, uint64_t start, uint64_t size,
                      const char* data, const std::vector<PageExtent>& stored, const std::vector<PageExtent>& inherited,
                      uint64_t parent_generation = 0, uint64_t parent_id = 0, const char* parent_name = nullptr) {
  ImageWriter w;
  ProcessRecord p = process_of(generation);
  RegionRecord r{};
  r.start = start;
  r.end = start + size;
  r.prot = PROT_READ | PROT_WRITE;
  r.flags = kRegionPrivate | kRegionAnonymous;
  bool ok = w.open(path.c_str(), compress) && w.add_record(RecordType::Process, &p, sizeof p);
  if (ok && parent_generation)
    w.set_lineage(0x1234 + generation, generation, CheckpointMode::Incremental, parent_generation, parent_id,
                  parent_name);
  ok = ok && w.begin_region(r, nullptr);
  for (const PageExtent& e : stored) ok = ok && w.add_pages(e.offset, data + e.offset, e.size);
  for (const PageExtent& e : inherited) ok = ok && w.add_inherited(e.offset, e.size);
  ok = ok && w.end_region() && w.commit();
  return ok ? "" : w.error();
}

class IncrementalChain : public ::testing::TestWithParam<bool> {};

TEST_P(IncrementalChain, RestoresEachPageFromTheNewestImageThatHasIt) {
  TempDir dir;
  const bool lz4 = GetParam();
  constexpr uint64_t kStart = 0x7f0000000000, kPages = 32;
  // Three generations of the same 32 pages: v1 all pages, v2 rewrote 4-7,
  // v3 rewrote 5 and 20, and page 30 went back to zeros (neither stored
  // nor inherited).
  Mapping v1(kPages * kPage), v2(kPages * kPage), v3(kPages * kPage);
  fill_random(v1.data(), v1.size(), 1);
  fill_random(v2.data(), v2.size(), 2);
  fill_random(v3.data(), v3.size(), 3);
  const std::string p1 = dir.file("ckpt_a_g1.ckpt"), p2 = dir.file("ckpt_a_g2.ckpt"), p3 = dir.file("ckpt_a_g3.ckpt");
  ASSERT_EQ(write_one(p1, lz4, 1, kStart, v1.size(), v1.data(), {{0, kPages * kPage}}, {}), "");
  ASSERT_EQ(write_one(p2, lz4, 2, kStart, v2.size(), v2.data(), {{4 * kPage, 4 * kPage}},
                      {{0, 4 * kPage}, {8 * kPage, (kPages - 8) * kPage}}, 1, image_id_of(p1), "ckpt_a_g1.ckpt"),
            "");
  ASSERT_EQ(write_one(p3, lz4, 3, kStart, v3.size(), v3.data(), {{5 * kPage, kPage}, {20 * kPage, kPage}},
                      {{0, 5 * kPage}, {6 * kPage, 14 * kPage}, {21 * kPage, 9 * kPage}, {31 * kPage, kPage}}, 2,
                      image_id_of(p2), "ckpt_a_g2.ckpt"),
            "");

  std::string error;
  auto img = ImageReader::open(p3, error);
  ASSERT_TRUE(img) << error;
  ASSERT_TRUE(img->incremental());
  ASSERT_TRUE(img->parent() && img->parent()->parent() && !img->parent()->parent()->incremental());
  ASSERT_TRUE(img->verify_data(error)) << error;
  const Region& r = img->regions().at(0);
  EXPECT_EQ(r.stored_pages(), 2u);
  EXPECT_EQ(r.inherited_pages(), 29u);
  std::vector<char> out(kPages * kPage, 0);
  ASSERT_TRUE(img->read_region(r, out.data(), error)) << error;
  for (uint64_t page = 0; page < kPages; ++page) {
    const char* want = page == 5 || page == 20 ? v3.data()
                       : page >= 4 && page < 8 ? v2.data()
                                              : v1.data();
    if (page == 30) {
      EXPECT_EQ(std::vector<char>(out.begin() + page * kPage, out.begin() + (page + 1) * kPage),
                std::vector<char>(kPage, 0))
          << "page 30 is in no image: zero";
      continue;
    }
    EXPECT_EQ(memcmp(out.data() + page * kPage, want + page * kPage, kPage), 0) << "page " << page;
  }
}

TEST_P(IncrementalChain, ReadsInheritedPagesFromParentRegionsOfAnotherShape) {
  TempDir dir;
  const bool lz4 = GetParam();
  constexpr uint64_t kStart = 0x7f0000000000;
  // The parent saved the memory as two regions (an mprotect split it);
  // the child's one region inherits across both.
  Mapping v1(16 * kPage), v2(16 * kPage);
  fill_random(v1.data(), v1.size(), 7);
  fill_random(v2.data(), v2.size(), 8);
  const std::string p1 = dir.file("ckpt_b_g1.ckpt"), p2 = dir.file("ckpt_b_g2.ckpt");
  {
    ImageWriter w;
    ProcessRecord p = process_of(1);
    RegionRecord a{}, b{};
    a.start = kStart;
    a.end = b.start = kStart + 6 * kPage;
    b.end = kStart + 16 * kPage;
    a.prot = b.prot = PROT_READ | PROT_WRITE;
    a.flags = b.flags = kRegionPrivate | kRegionAnonymous;
    ASSERT_TRUE(w.open(p1.c_str(), lz4) && w.add_record(RecordType::Process, &p, sizeof p) &&
                w.add_region(a, nullptr, v1.data()) && w.add_region(b, nullptr, v1.data() + 6 * kPage) && w.commit())
        << w.error();
  }
  ASSERT_EQ(write_one(p2, lz4, 2, kStart, v2.size(), v2.data(), {{0, kPage}}, {{kPage, 15 * kPage}}, 1,
                      image_id_of(p1), "ckpt_b_g1.ckpt"),
            "");
  std::string error;
  auto img = ImageReader::open(p2, error);
  ASSERT_TRUE(img) << error;
  std::vector<char> out(16 * kPage, 0);
  ASSERT_TRUE(img->read_region(img->regions().at(0), out.data(), error)) << error;
  EXPECT_EQ(memcmp(out.data(), v2.data(), kPage), 0);
  EXPECT_EQ(memcmp(out.data() + kPage, v1.data() + kPage, 15 * kPage), 0);
}

INSTANTIATE_TEST_SUITE_P(RawAndLz4, IncrementalChain, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Lz4" : "Raw"; });

TEST(IncrementalImage, RefusesAParentWithAnotherIdentity) {
  TempDir dir;
  Mapping m(4 * kPage);
  fill_random(m.data(), m.size(), 1);
  const std::string p1 = dir.file("ckpt_c_g1.ckpt"), p2 = dir.file("ckpt_c_g2.ckpt");
  ASSERT_EQ(write_one(p1, false, 1, m.start(), m.size(), m.data(), {{0, 4 * kPage}}, {}), "");
  ASSERT_EQ(write_one(p2, false, 2, m.start(), m.size(), m.data(), {}, {{0, 4 * kPage}}, 1, image_id_of(p1) ^ 1,
                      "ckpt_c_g1.ckpt"),
            "");
  std::string error;
  EXPECT_FALSE(ImageReader::open(p2, error));
  EXPECT_NE(error.find("its parent image " + p1 + " (generation 1) is not the image it was written over"),
            std::string::npos)
      << error;
}

TEST(IncrementalImage, RefusesAMissingParentAndAParentNameWithASlash) {
  TempDir dir;
  Mapping m(4 * kPage);
  const std::string p2 = dir.file("ckpt_d_g2.ckpt");
  ASSERT_EQ(write_one(p2, false, 2, m.start(), m.size(), m.data(), {}, {{0, kPage}}, 1, 99, "ckpt_d_g1.ckpt"), "");
  std::string error;
  EXPECT_FALSE(ImageReader::open(p2, error));
  EXPECT_NE(error.find("(generation 1) is unusable: cannot open: No such file or directory"), std::string::npos)
      << error;
  ASSERT_EQ(write_one(p2, false, 2, m.start(), m.size(), m.data(), {}, {{0, kPage}}, 1, 99, "../ckpt_d_g1.ckpt"), "");
  EXPECT_FALSE(ImageReader::open(p2, error));
  EXPECT_NE(error.find("its parent's name is not a file name"), std::string::npos) << error;
}

TEST(IncrementalImage, RefusesInheritedPagesThatOverlapStoredOnesOrAFullImageThatInherits) {
  TempDir dir;
  Mapping m(8 * kPage);
  fill_random(m.data(), m.size(), 1);
  const std::string p1 = dir.file("ckpt_e_g1.ckpt"), p2 = dir.file("ckpt_e_g2.ckpt");
  ASSERT_EQ(write_one(p1, false, 1, m.start(), m.size(), m.data(), {{0, 8 * kPage}}, {}), "");
  ASSERT_EQ(write_one(p2, false, 2, m.start(), m.size(), m.data(), {{2 * kPage, 2 * kPage}}, {{0, 3 * kPage}}, 1,
                      image_id_of(p1), "ckpt_e_g1.ckpt"),
            "");
  std::string error;
  EXPECT_FALSE(ImageReader::open(p2, error));
  EXPECT_NE(error.find("apart from the stored pages"), std::string::npos) << error;
  // A full image has no parent to inherit from: the writer says so.
  ImageWriter w;
  ProcessRecord p = process_of(3);
  RegionRecord r{};
  r.start = m.start();
  r.end = m.end();
  r.flags = kRegionPrivate | kRegionAnonymous;
  ASSERT_TRUE(w.open(dir.file("ckpt_e_g3.ckpt").c_str(), false) && w.add_record(RecordType::Process, &p, sizeof p) &&
              w.begin_region(r, nullptr));
  EXPECT_FALSE(w.add_inherited(0, kPage));
  EXPECT_NE(std::string(w.error()).find("the image has no parent"), std::string::npos) << w.error();
}

}  // namespace
}  // namespace ckpt::image
