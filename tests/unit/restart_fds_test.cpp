// ckpt_restart's descriptions (launcher/restart_fds.h) against real files,
// pipes and images with "fds" sections.
#include "restore_descriptions.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "image_test_util.h"
#include "ckpt/restart.h"

namespace {

using ckpt::DescriptionSet;
using ckpt::PathRewriter;
using ckpt::ProcessFds;
using ckpt::image::FdKind;
using ckpt::image::FdRecord;
using ckpt::image::FilePolicy;
using ckpt::image::ImageReader;
using ckpt::image::test::TempDir;
using ckpt::image::test::TestSection;

constexpr int kFloor = 200;  // transport numbers: above every saved descriptor here

std::string contents_of(const std::string& path) {
  std::vector<char> bytes = ckpt::image::test::read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

void put(const std::string& path, const std::string& text) {
  ckpt::image::test::write_file(path, std::vector<char>(text.begin(), text.end()));
}

TestSection raw_section(const std::string& name, const std::string& bytes) {
  return {name, std::vector<char>(bytes.begin(), bytes.end())};
}

// One process's "fds" section under construction, with this process's own
// limits as a checkpoint would save them (zeros would make install() set a
// CPU limit of 0 s, and the kernel SIGKILLs the test child at its next tick).
struct FdSection {
  FdSection() {
    for (int r = 0; r < static_cast<int>(ckpt::image::kRlimitCount) && r < RLIM_NLIMITS; ++r) {
      rlimit now{};
      getrlimit(r, &now);
      header.rlimits[r].cur = now.rlim_cur;
      header.rlimits[r].max = now.rlim_max;
    }
  }

  ckpt::image::FdSectionHeader header{};
  std::vector<FdRecord> records;

  FdRecord& add(int fd, FdKind kind, uint64_t desc_id, const std::string& path, int status_flags) {
    FdRecord& r = records.emplace_back();
    std::memset(&r, 0, sizeof r);
    r.fd = fd;
    r.kind = kind;
    r.desc_id = desc_id;
    r.status_flags = static_cast<uint32_t>(status_flags);
    r.offset = -1;
    std::snprintf(r.path, sizeof r.path, "%s", path.c_str());
    return r;
  }

  TestSection section() {
    header.version = ckpt::image::kFdSectionVersion;
    header.count = static_cast<uint32_t>(records.size());
    header.umask = 022;
    std::snprintf(header.cwd, sizeof header.cwd, "/");  // install() enters it
    std::vector<char> bytes(sizeof header + records.size() * sizeof(FdRecord));
    std::memcpy(bytes.data(), &header, sizeof header);
    if (!records.empty()) std::memcpy(bytes.data() + sizeof header, records.data(), records.size() * sizeof(FdRecord));
    return {ckpt::image::kFdSection, bytes};
  }
};

class RestartFds : public ::testing::Test {
 protected:
  // An image holding `sections`; returns the reader (kept open by the fixture).
  const ImageReader* image(std::vector<TestSection> sections) {
    std::string path = dir_.file("p" + std::to_string(readers_.size()) + ".ckpt");
    std::string error = ckpt::image::test::write_image(path, false, {}, sections);
    EXPECT_EQ(error, "");
    auto reader = ImageReader::open(path, error);
    EXPECT_NE(reader, nullptr) << error;
    readers_.push_back(std::move(reader));
    return readers_.back().get();
  }

  // create() over the images, process i having vpid 100 + i.
  void create(DescriptionSet& set, const std::vector<const ImageReader*>& images, const PathRewriter& paths = {}) {
    vpids_.clear();
    fds_.clear();
    for (size_t i = 0; i < images.size(); ++i) {
      vpids_.push_back(static_cast<int32_t>(100 + i));
      fds_.push_back(ckpt::read_process_fds(*images[i]));
    }
    set.create(images, fds_, vpids_, paths, kFloor, {});
  }

  TempDir dir_;
  std::vector<std::unique_ptr<ImageReader>> readers_;
  std::vector<int32_t> vpids_;
  std::vector<ProcessFds> fds_;
};

// install() closes every other descriptor: it runs in a death-test child,
// which exits 0 only if `check` holds afterwards.
template <typename Check>
void install_and_check(const DescriptionSet& set, const ProcessFds& fds, Check check) {
  EXPECT_EXIT(
      {
        set.install(fds, PathRewriter(), {});
        _exit(check() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

std::string read_some(int fd, size_t n) {
  std::string out(n, '\0');
  ssize_t got = read(fd, out.data(), n);
  out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return out;
}

TEST_F(RestartFds, AnImageWithoutTheSectionIsRefused) {
  EXPECT_THROW(ckpt::read_process_fds(*image({})), ckpt::RestartError);
}

TEST_F(RestartFds, ASharedDescriptionIsOneDescriptionWithTheSavedOffset) {
  std::string file = dir_.file("data.txt");
  put(file, "0123456789");
  FdSection a, b;
  a.add(5, FdKind::File, 0x6400000005, file, O_RDONLY).offset = 4;
  b.add(7, FdKind::File, 0x6400000005, file, O_RDONLY).offset = 4;  // inherited after fork
  const ImageReader* ia = image({a.section()});
  const ImageReader* ib = image({b.section()});
  DescriptionSet set;
  create(set, {ia, ib});
  install_and_check(set, fds_[1], [] {
    // Reading through the one description moves the offset both share.
    return read_some(7, 2) == "45" && lseek(7, 0, SEEK_CUR) == 6 && fcntl(5, F_GETFD) < 0;
  });
  // Another process of the tree (another child) goes on where that one stopped.
  install_and_check(set, fds_[0], [] { return read_some(5, 3) == "678"; });
}

TEST_F(RestartFds, PoliciesDecideWhereAFileIsReopened) {
  std::string file = dir_.file("log.txt");
  put(file, "abcdefghij");
  FdSection s;
  s.add(3, FdKind::File, 1, file, O_RDONLY).offset = 4;
  FdRecord& ignore = s.add(4, FdKind::File, 2, file, O_RDONLY);
  ignore.offset = 4;
  ignore.policy = FilePolicy::Ignore;
  FdRecord& append = s.add(5, FdKind::File, 3, file, O_RDONLY);
  append.offset = 4;
  append.policy = FilePolicy::Append;
  DescriptionSet set;
  create(set, {image({s.section()})});
  install_and_check(set, fds_[0], [] {
    return lseek(3, 0, SEEK_CUR) == 4 && lseek(4, 0, SEEK_CUR) == 0 && lseek(5, 0, SEEK_CUR) == 10;
  });
}

TEST_F(RestartFds, ReplaceWritesTheSavedCopyBackAndSubstituteLeavesTheFileAlone) {
  std::string replaced = dir_.file("replaced.txt"), substituted = dir_.file("substituted.txt");
  put(replaced, "changed since");
  put(substituted, "changed since");
  FdSection s;
  FdRecord& r = s.add(3, FdKind::File, 0x1, replaced, O_RDWR);
  r.policy = FilePolicy::Replace;
  r.has_contents = 1;
  r.offset = 2;
  FdRecord& u = s.add(4, FdKind::File, 0x2, substituted, O_RDONLY);
  u.policy = FilePolicy::Substitute;
  u.has_contents = 1;
  u.offset = 1;
  DescriptionSet set;
  create(set, {image({s.section(), raw_section("fdata.0000000000000001", "saved one"),
                      raw_section("fdata.0000000000000002", "saved two")})});
  EXPECT_EQ(contents_of(replaced), "saved one");
  EXPECT_EQ(contents_of(substituted), "changed since");
  install_and_check(set, fds_[0], [] {
    struct stat st;
    // The substitute is a private copy: unlinked, read-only as saved.
    return read_some(3, 3) == "ved" && read_some(4, 4) == "aved" && fstat(4, &st) == 0 && st.st_nlink == 0 &&
           (fcntl(4, F_GETFL) & O_ACCMODE) == O_RDONLY;
  });
}

TEST_F(RestartFds, ADeletedFileComesBackUnlinkedWithItsContents) {
  FdSection s;
  FdRecord& d = s.add(6, FdKind::Deleted, 0x7, dir_.file("gone.tmp"), O_RDWR);
  d.has_contents = 1;
  d.offset = 3;
  DescriptionSet set;
  create(set, {image({s.section(), raw_section("fdata.0000000000000007", "scratch data")})});
  install_and_check(set, fds_[0], [] {
    struct stat st;
    return fstat(6, &st) == 0 && st.st_nlink == 0 && read_some(6, 4) == "atch";
  });
}

TEST_F(RestartFds, BothEndsOfAPipeAreOnePipeHoldingItsBytesAgain) {
  FdSection reader, writer;
  reader.add(3, FdKind::Pipe, 0x6400000003, "pipe:[99]", O_RDONLY).ino = 99;
  FdRecord& w = writer.add(4, FdKind::Pipe, 0x6500000004, "pipe:[99]", O_WRONLY | O_NONBLOCK);
  w.ino = 99;
  const ImageReader* ir = image({reader.section()});
  const ImageReader* iw = image({writer.section(), raw_section("pipe.99", "in flight|")});
  DescriptionSet set;
  create(set, {ir, iw});
  install_and_check(set, fds_[1], [] {
    return (fcntl(4, F_GETFL) & O_NONBLOCK) && write(4, "more", 4) == 4 && fcntl(3, F_GETFD) < 0;
  });
  // The pipe lives on in this process's copies: what the writer wrote
  // follows the refilled bytes.
  install_and_check(set, fds_[0], [] { return read_some(3, 64) == "in flight|more"; });
}

TEST_F(RestartFds, AFifoOpensWithoutBlockingAndGetsItsBytesBack) {
  std::string fifo = dir_.file("queue");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  FdSection reader, writer;
  reader.add(3, FdKind::Fifo, 0x6400000003, fifo, O_RDONLY).ino = 55;
  writer.add(3, FdKind::Fifo, 0x6500000003, fifo, O_WRONLY).ino = 55;
  const ImageReader* ir = image({reader.section(), raw_section("pipe.55", "queued")});
  const ImageReader* iw = image({writer.section()});
  DescriptionSet set;
  create(set, {ir, iw});
  install_and_check(set, fds_[0], [] { return read_some(3, 64) == "queued"; });
}

TEST_F(RestartFds, AMissingFileStopsTheRestartNamingFileAndProcess) {
  FdSection s;
  s.add(3, FdKind::File, 1, dir_.file("vanished.dat"), O_RDONLY);
  DescriptionSet set;
  try {
    create(set, {image({s.section()})});
    FAIL() << "create() accepted a missing file";
  } catch (const ckpt::RestartError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot reopen " + dir_.file("vanished.dat") +
                                         " for process 100 (app \"quoted\"): No such file or directory");
  }
}

TEST_F(RestartFds, RelocatedFilesOpenFromTheirNewPlace) {
  std::string old_dir = dir_.file("old"), new_dir = dir_.file("new");
  ASSERT_EQ(mkdir(new_dir.c_str(), 0700), 0);
  put(new_dir + "/in.txt", "moved");
  FdSection s;
  s.add(3, FdKind::File, 1, old_dir + "/in.txt", O_RDONLY).offset = 2;
  PathRewriter paths;
  paths.add_prefix(old_dir, new_dir);
  DescriptionSet set;
  create(set, {image({s.section()})}, paths);
  install_and_check(set, fds_[0], [] { return read_some(3, 8) == "ved"; });
}

TEST_F(RestartFds, CloseOnExecIsPerDescriptorNumber) {
  std::string file = dir_.file("f");
  put(file, "x");
  FdSection s;
  s.add(3, FdKind::File, 1, file, O_RDONLY).fd_flags = FD_CLOEXEC;
  s.add(4, FdKind::File, 1, file, O_RDONLY);  // a dup without the flag
  DescriptionSet set;
  create(set, {image({s.section()})});
  install_and_check(set, fds_[0], [] { return fcntl(3, F_GETFD) == FD_CLOEXEC && fcntl(4, F_GETFD) == 0; });
}

}  // namespace
