// The writer and the maps reader run where malloc may be locked by a frozen
// thread (GUIDE §3.1): this binary interposes malloc and friends and proves
// that they never call it, on success and on failure.
#include <gtest/gtest.h>

#include "image_test_util.h"
#include "proc_maps.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
bool g_watching = false;
int g_allocations = 0;
void note() {
  if (__atomic_load_n(&g_watching, __ATOMIC_RELAXED)) __atomic_add_fetch(&g_allocations, 1, __ATOMIC_RELAXED);
}
}  // namespace

extern "C" {
void* malloc(size_t n) { return note(), __libc_malloc(n); }
void* calloc(size_t n, size_t m) { return note(), __libc_calloc(n, m); }
void* realloc(void* p, size_t n) { return note(), __libc_realloc(p, n); }
void* memalign(size_t a, size_t n) { return note(), __libc_memalign(a, n); }
void* aligned_alloc(size_t a, size_t n) { return note(), __libc_memalign(a, n); }
int posix_memalign(void** out, size_t a, size_t n) {
  note();
  *out = __libc_memalign(a, n);
  return *out ? 0 : ENOMEM;
}
void free(void* p) { __libc_free(p); }
}

namespace ckpt::image {
namespace {

using namespace test;

// Counts allocations made while running f.
template <typename F>
int allocations_in(F&& f) {
  g_allocations = 0;
  __atomic_store_n(&g_watching, true, __ATOMIC_SEQ_CST);
  f();
  __atomic_store_n(&g_watching, false, __ATOMIC_SEQ_CST);
  return g_allocations;
}

TEST(ImageWriterNoMalloc, InterposedMallocSeesCalls) {
  EXPECT_EQ(allocations_in([] { __libc_free(malloc(10)); }), 1);
}

TEST(ImageWriterNoMalloc, WritesWholeImagesWithoutAllocating) {
  TempDir dir;
  StandardRegions regions;
  ProcessRecord p = test_process(1);
  ThreadRecord t = test_thread(1, kThreadLeader);
  std::string paths[2] = {dir.file("raw.ckpt"), dir.file("z.ckpt")};
  std::vector<char> section(300000, 's');  // forces the metadata buffer to grow
  // Compressed, also on worker threads.
  for (int mode : {0, 1, 3}) {
    const bool compress = mode != 0;
    const char* path = paths[compress].c_str();
    bool ok = false;
    EXPECT_EQ(allocations_in([&] {
                ImageWriter w;
                ok = w.open(path, compress, compress ? mode : 1) && w.add_record(RecordType::Process, &p, sizeof(p)) &&
                     w.add_record(RecordType::Thread, &t, sizeof(t));
                for (const TestRegion& r : regions.regions())
                  ok = ok && w.add_region(r.rec, r.path.c_str(), r.data);
                ok = ok && w.add_section("big", section.data(), section.size()) && w.commit();
              }),
              0)
        << mode;
    EXPECT_TRUE(ok) << mode;
  }
}

TEST(ImageWriterNoMalloc, ReportsFailuresWithoutAllocating) {
  ImageWriter w;
  bool ok = true;
  EXPECT_EQ(allocations_in([&] { ok = w.open("/nonexistent-dir/ckpt_x.ckpt", false); }), 0);
  EXPECT_FALSE(ok);
  EXPECT_STREQ(w.error(), ("create /nonexistent-dir/ckpt_x.ckpt.tmp." + std::to_string(getpid()) +
                           ": No such file or directory").c_str());
}

TEST(ReadProcMapsNoMalloc, ReadsMapsWithoutAllocating) {
  static MapEntry maps[2048];
  long n = 0;
  EXPECT_EQ(allocations_in([&] { n = read_proc_maps(0, maps, 2048); }), 0);
  EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace ckpt::image
