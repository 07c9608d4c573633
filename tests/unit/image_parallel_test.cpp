// Compression on worker threads (parallel_compressor.h): the same image as
// the serial writer, workers only while an image is being written, and a
// failure mid-way that leaves neither a temporary file nor a thread.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "ckpt/environment.h"
#include "image_reader.h"
#include "image_test_util.h"
#include "parallel_compressor.h"

namespace ckpt::image {
namespace {

using namespace test;

int threads_of_this_process() {
  int n = 0;
  DIR* d = opendir("/proc/self/task");
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

// Memory like the benchmark's (bench/ckpt_bench.c): per page, half random
// bytes, a quarter text, a quarter zeros.
void fill_mixed(char* p, size_t n, uint32_t seed) {
  fill_random(p, n, seed);
  for (size_t page = 0; page < n; page += 4096) {
    fill_text(p + page + 2048, 1024);
    memset(p + page + 3072, 0, 1024);
  }
}

class ParallelCompression : public ::testing::Test {
 protected:
  void SetUp() override {
    mixed_.reset(new Mapping(6 * kChunkSize + 5 * 4096));  // several chunks and a short last one
    fill_mixed(mixed_->data(), mixed_->size(), 3);
    random_.reset(new Mapping(3 * kChunkSize));  // chunks lz4 stores raw
    fill_random(random_->data(), random_->size(), 4);
    sparse_.reset(new Mapping(4 * kChunkSize));
    fill_mixed(sparse_->data(), sparse_->size(), 5);
    regions_ = standard_.regions();
    mixed_index_ = regions_.size();
    regions_.push_back({region_record(*mixed_, kRegionPrivate | kRegionAnonymous), "", mixed_->data()});
    regions_.push_back({region_record(*random_, kRegionPrivate | kRegionAnonymous), "", random_->data()});
    // Page runs that straddle chunk boundaries, and a one-page run.
    TestRegion sparse{region_record(*sparse_, kRegionPrivate | kRegionAnonymous), "", sparse_->data(), true};
    sparse.runs = {{4096, kChunkSize}, {kChunkSize + 8 * 4096, 4096}, {2 * kChunkSize - 4096, kChunkSize + 8192}};
    regions_.push_back(sparse);
  }

  StandardRegions standard_;
  std::unique_ptr<Mapping> mixed_, random_, sparse_;
  std::vector<TestRegion> regions_;
  size_t mixed_index_ = 0;
  TempDir dir_;
};

// Every image has a random id of its own (incremental images name their
// parent's): images compared byte for byte are given the same one.
constexpr uint64_t kImageId = 0x5eed5eed5eed5eedULL;

TEST_F(ParallelCompression, ImagesAreByteIdenticalToTheSerialWriters) {
  const std::string serial = dir_.file("serial.ckpt");
  ASSERT_EQ(write_image(serial, true, regions_, {}, {}, nullptr, {1, true, kImageId}), "");
  const std::vector<char> expected = read_file(serial);
  for (int threads : {2, 3, 8}) {
    const std::string path = dir_.file("parallel" + std::to_string(threads) + ".ckpt");
    ASSERT_EQ(write_image(path, true, regions_, {}, {}, nullptr, {threads, true, kImageId}), "") << threads;
    EXPECT_TRUE(read_file(path) == expected) << threads << " threads wrote another image";
  }
  // And it reads back as the memory it was written from.
  std::string error;
  auto img = ImageReader::open(dir_.file("parallel3.ckpt"), error);
  ASSERT_TRUE(img) << error;
  ASSERT_EQ(img->regions().size(), regions_.size());
  std::vector<char> back(mixed_->size());
  ASSERT_TRUE(img->read_region(img->regions()[mixed_index_], back.data(), error)) << error;
  EXPECT_EQ(memcmp(back.data(), mixed_->data(), back.size()), 0);
}

// Stable bytes are compressed (or written) where they lie, whole chunks at a
// time, instead of being copied first: the image is the same.
TEST_F(ParallelCompression, StableBytesMakeTheSameImageWithoutACopy) {
  for (bool compress : {false, true})
    for (int threads : {1, 3}) {
      const std::string copied = dir_.file("copied.ckpt"), stable = dir_.file("stable.ckpt");
      ASSERT_EQ(write_image(copied, compress, regions_, {}, {}, nullptr, {threads, true, kImageId}), "");
      ASSERT_EQ(write_image(stable, compress, regions_, {}, {}, nullptr, {threads, true, kImageId, true}), "");
      EXPECT_TRUE(read_file(stable) == read_file(copied)) << "compress " << compress << ", " << threads << " threads";
    }
}

TEST_F(ParallelCompression, UncompressedImagesIgnoreTheThreadCount) {
  const std::string serial = dir_.file("serial.ckpt"), threaded = dir_.file("threaded.ckpt");
  ASSERT_EQ(write_image(serial, false, regions_, {}, {}, nullptr, {1, true, kImageId}), "");
  ImageWriter w;
  ASSERT_TRUE(w.open(threaded.c_str(), false, 4));
  EXPECT_EQ(w.compress_workers(), 0);
  w.abort();
  ASSERT_EQ(write_image(threaded, false, regions_, {}, {}, nullptr, {4, true, kImageId}), "");
  EXPECT_TRUE(read_file(threaded) == read_file(serial));
}

TEST_F(ParallelCompression, WorkersLiveOnlyWhileAnImageIsWritten) {
  const int before = threads_of_this_process();
  const std::string path = dir_.file("a.ckpt");
  ProcessRecord p = test_process(0);
  {
    ImageWriter w;
    ASSERT_TRUE(w.open(path.c_str(), true, 4));
    EXPECT_EQ(w.compress_workers(), 4);
    // The compression workers, and the direct writer's thread.
    EXPECT_EQ(threads_of_this_process(), before + 4 + (w.direct_io() ? 1 : 0));
    ASSERT_TRUE(w.add_record(RecordType::Process, &p, sizeof(p)));
    ASSERT_TRUE(w.add_region(regions_[mixed_index_].rec, nullptr, mixed_->data()));
    ASSERT_TRUE(w.commit()) << w.error();
    EXPECT_EQ(threads_of_this_process(), before) << "after commit";

    ASSERT_TRUE(w.open(path.c_str(), true, 3));
    ASSERT_TRUE(w.add_region(regions_[mixed_index_].rec, nullptr, mixed_->data()));
    w.abort();
    EXPECT_EQ(threads_of_this_process(), before) << "after abort";

    ASSERT_TRUE(w.open(path.c_str(), true, 2));
    ASSERT_TRUE(w.add_region(regions_[mixed_index_].rec, nullptr, mixed_->data()));
  }
  EXPECT_EQ(threads_of_this_process(), before) << "after the destructor";
  EXPECT_EQ(dir_.entries(), std::vector<std::string>{"a.ckpt"});
}

// In a child: writing regions_ on 4 threads to `path` fails with `want`,
// leaving `previous` as it was, nothing else in `dir`, and one thread.
std::string expect_failed_parallel_write(const std::string& dir, const std::string& path,
                                         const std::vector<TestRegion>& regions, const std::vector<char>& previous,
                                         const std::string& want) {
  if (threads_of_this_process() != 1) return "the child is not single-threaded to begin with";
  std::string error = write_image(path, true, regions, {}, {}, nullptr, {4});
  if (error.find(want) == std::string::npos) return "error \"" + error + "\", want \"" + want + "\"";
  if (read_file(path) != previous) return "previous image changed";
  const std::string extra = files_besides(dir, path);
  if (!extra.empty()) return "left behind: " + extra;
  int threads = threads_of_this_process();
  return threads == 1 ? "" : std::to_string(threads) + " threads left";
}

TEST_F(ParallelCompression, FileSizeLimitMidWayLeavesNoTemporaryAndNoWorkers) {
  const std::string path = dir_.file("ckpt_a.ckpt"), dir = dir_.path();
  ASSERT_EQ(write_image(path, true, standard_.regions()), "");
  const std::vector<char> previous = read_file(path);
  std::string result = in_child([&] {
    signal(SIGXFSZ, SIG_IGN);  // EFBIG rather than death
    rlimit lim{8u << 20, 8u << 20};  // some chunks written, then the limit
    setrlimit(RLIMIT_FSIZE, &lim);
    return expect_failed_parallel_write(dir, path, regions_, previous, ": File too large");
  });
  EXPECT_EQ(result, "");
}

// A full file system, on a small tmpfs in a private mount namespace of a
// child (needs CAP_SYS_ADMIN; skipped without it).
TEST_F(ParallelCompression, FullFileSystemMidWayLeavesNoTemporaryAndNoWorkers) {
  const std::string path = dir_.file("ckpt_a.ckpt"), dir = dir_.path();
  std::string result = in_child([&]() -> std::string {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=12m") != 0)
      _exit(kSkip);
    std::string error = write_image(path, true, standard_.regions());
    if (!error.empty()) return "small image: " + error;
    return expect_failed_parallel_write(dir, path, regions_, read_file(path), ": No space left on device");
  });
  if (result == "skip") GTEST_SKIP() << "cannot mount a tmpfs here";
  EXPECT_EQ(result, "");
}

// Where threads cannot be made (clone refused, as a seccomp policy or a
// thread limit may), the writer compresses in its own thread: same image.
TEST_F(ParallelCompression, WritesSeriallyWhenNoThreadCanBeMade) {
  const std::string serial = dir_.file("serial.ckpt"), path = dir_.file("fallback.ckpt");
  ASSERT_EQ(write_image(serial, true, regions_, {}, {}, nullptr, {1, true, kImageId}), "");
  std::string result = in_child([&]() -> std::string {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      _exit(kSkip);
    ImageWriter w;
    if (!w.open(path.c_str(), true, 4)) return std::string("open: ") + w.error();
    if (w.compress_workers() != 0) return "workers made despite the filter";
    w.abort();
    return write_image(path, true, regions_, {}, {}, nullptr, {4, true, kImageId});
  });
  if (result == "skip") GTEST_SKIP() << "cannot install a seccomp filter here";
  ASSERT_EQ(result, "");
  EXPECT_TRUE(read_file(path) == read_file(serial));
}

// Page-cache-only images (ckpt_launch --no-fsync) differ only in not being
// synced: the same bytes, committed the same way.
TEST_F(ParallelCompression, PageCacheOnlyImagesAreTheSameImages) {
  const std::string durable = dir_.file("durable.ckpt"), cached = dir_.file("cached.ckpt");
  ASSERT_EQ(write_image(durable, true, regions_, {}, {}, nullptr, {2, true, kImageId}), "");
  ASSERT_EQ(write_image(cached, true, regions_, {}, {}, nullptr, {2, false, kImageId}), "");
  EXPECT_TRUE(read_file(cached) == read_file(durable));
  EXPECT_EQ(dir_.entries().size(), 2u) << "no temporary left";
}

TEST(CompressThreads, AutoMeansTheCpusThisProcessMayUseAtMostEight) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const int cpus = CPU_COUNT(&set);
  EXPECT_EQ(compress_threads(0), std::min(cpus, kAutoCompressThreads));
  EXPECT_EQ(compress_threads(1), 1);
  EXPECT_EQ(compress_threads(5), 5);
  EXPECT_EQ(compress_threads(1000), CKPT_MAX_COMPRESS_THREADS);
}

}  // namespace
}  // namespace ckpt::image
