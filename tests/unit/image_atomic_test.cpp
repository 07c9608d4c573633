// A failed or abandoned write leaves the previous image untouched and no
// temporary file behind (GUIDE §3.7).
#include <gtest/gtest.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image_reader.h"
#include "image_test_util.h"

namespace ckpt::image {
namespace {

using namespace test;

class ImageAtomicity : public ::testing::Test {
 protected:
  void SetUp() override {
    small_.reset(new Mapping(2 * 4096));
    fill_text(small_->data(), small_->size());
    big_.reset(new Mapping(4u << 20));
    fill_random(big_->data(), big_->size(), 11);
  }
  std::vector<TestRegion> small() const { return {{region_record(*small_, kRegionPrivate), "[heap]", small_->data()}}; }
  std::vector<TestRegion> big() const { return {{region_record(*big_, kRegionPrivate), "", big_->data()}}; }

  // In the child: writing `regions` to `path` must fail with `want` in the
  // error, leaving `previous` as it was and nothing else in `dir`.
  static std::string expect_failed_write(const std::string& dir, const std::string& path,
                                         const std::vector<TestRegion>& regions,
                                         const std::vector<char>& previous, const std::string& want) {
    std::string error = write_image(path, false, regions);
    if (error.find(want) == std::string::npos) return "error \"" + error + "\", want \"" + want + "\"";
    if (error.find(path + ".tmp.") == std::string::npos) return "error does not name the temp file: " + error;
    if (read_file(path) != previous) return "previous image changed";
    const std::string extra = files_besides(dir, path);
    return extra.empty() ? "" : "left behind: " + extra;
  }

  TempDir dir_;
  std::unique_ptr<Mapping> small_, big_;
};

TEST_F(ImageAtomicity, WritesUnderATemporaryNameWithPrivateMode) {
  std::string path = dir_.file("ckpt_a.ckpt");
  ImageWriter w;
  ASSERT_TRUE(w.open(path.c_str(), false));
  std::string tmp = "ckpt_a.ckpt.tmp." + std::to_string(getpid());
  EXPECT_EQ(dir_.entries(), std::vector<std::string>{tmp});
  struct stat st;
  ASSERT_EQ(stat(dir_.file(tmp).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The temporary's descriptor must not leak into children the application execs.
  bool found = false;
  for (int fd = 3; fd < 1024; fd++) {
    char link[64], target[4096] = {};
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if (readlink(link, target, sizeof(target) - 1) <= 0 || dir_.file(tmp) != target) continue;
    found = true;
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  }
  EXPECT_TRUE(found);
}

TEST_F(ImageAtomicity, AbortAndDestructorRemoveTheTemporary) {
  std::string path = dir_.file("ckpt_a.ckpt");
  {
    ImageWriter w;
    ASSERT_TRUE(w.open(path.c_str(), true));
    ASSERT_TRUE(w.add_region(small()[0].rec, "[heap]", small_->data()));
    w.abort();
    EXPECT_TRUE(dir_.entries().empty());
    ASSERT_TRUE(w.open(path.c_str(), true));
    ASSERT_TRUE(w.add_region(small()[0].rec, "[heap]", small_->data()));
  }
  EXPECT_TRUE(dir_.entries().empty());
}

TEST_F(ImageAtomicity, CommitReplacesThePreviousImage) {
  std::string path = dir_.file("ckpt_a.ckpt");
  ASSERT_EQ(write_image(path, false, small()), "");
  ASSERT_EQ(write_image(path, true, big()), "");
  EXPECT_EQ(dir_.entries(), std::vector<std::string>{"ckpt_a.ckpt"});
  std::string error;
  auto img = ImageReader::open(path, error);
  ASSERT_TRUE(img) << error;
  EXPECT_TRUE(img->compressed());
  EXPECT_EQ(img->regions()[0].rec.start, big_->start());
}

TEST_F(ImageAtomicity, FileSizeLimitLeavesThePreviousImageIntact) {
  std::string path = dir_.file("ckpt_a.ckpt");
  ASSERT_EQ(write_image(path, false, small()), "");
  std::vector<char> previous = read_file(path);
  std::string dir = dir_.path();
  std::string result = in_child([&] {
    signal(SIGXFSZ, SIG_IGN);  // so that the write fails with EFBIG instead of killing us
    rlimit lim{1u << 20, 1u << 20};
    setrlimit(RLIMIT_FSIZE, &lim);
    return expect_failed_write(dir, path, big(), previous, ": File too large");
  });
  EXPECT_EQ(result, "");
  EXPECT_EQ(read_file(path), previous);
}

TEST_F(ImageAtomicity, UnwritableDirectoryLeavesThePreviousImageIntact) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions (see ReadOnlyFileSystem...)";
  std::string path = dir_.file("ckpt_a.ckpt");
  ASSERT_EQ(write_image(path, false, small()), "");
  std::vector<char> previous = read_file(path);
  chmod(dir_.path().c_str(), 0555);
  EXPECT_EQ(expect_failed_write(dir_.path(), path, big(), previous, "create " + path + ".tmp."), "");
  EXPECT_NE(write_image(path, false, big()).find("Permission denied"), std::string::npos);
  chmod(dir_.path().c_str(), 0755);
}

// A full and then read-only file system, on a tiny tmpfs mounted in a private
// mount namespace of a child (needs CAP_SYS_ADMIN; skipped without it).
TEST_F(ImageAtomicity, FullOrReadOnlyFileSystemLeavesThePreviousImageIntact) {
  std::string dir = dir_.path();
  std::string path = dir_.file("ckpt_a.ckpt");
  std::string result = in_child([&]() -> std::string {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m") != 0)
      _exit(kSkip);
    std::string error = write_image(path, true, small());
    if (!error.empty()) return "small image: " + error;
    std::vector<char> previous = read_file(path);
    if (auto r = expect_failed_write(dir, path, big(), previous, ": No space left on device"); !r.empty())
      return "full: " + r;
    if (mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) return "remount failed";
    if (auto r = expect_failed_write(dir, path, small(), previous, "create " + path + ".tmp."); !r.empty())
      return "read-only: " + r;
    error = write_image(path, false, small());
    if (error.find("Read-only file system") == std::string::npos) return "read-only: " + error;
    return "";
  });
  if (result == "skip") GTEST_SKIP() << "cannot mount a tmpfs here";
  EXPECT_EQ(result, "");
}

}  // namespace
}  // namespace ckpt::image
