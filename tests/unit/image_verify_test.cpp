// What a restart refuses of its images before it makes anything
// (image_verify.h, and the bounds ImageReader::open keeps): crafted paths,
// addresses, counts, thread records, ownership, credentials, and sets that
// are not one complete checkpoint of one computation.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "image_reader.h"
#include "image_test_util.h"
#include "image_verify.h"
#include "tree_sections.h"

namespace ckpt::image {
namespace {

using namespace test;

class ImageVerify : public ::testing::Test {
 protected:
  ImageVerify() : heap_(4 * 4096) {
    host_.uid = getuid();
    host_.gid = getgid();
    host_.mmap_min_addr = 65536;
    process_ = process(4242, "host-4242-1", 1);
    regions_ = {{region_record(heap_, kRegionPrivate | kRegionAnonymous | kRegionHeap), "[heap]", heap_.data()}};
    threads_ = {test_thread(4242, kThreadLeader), test_thread(4243, 0), test_thread(4244, kThreadCheckpointer)};
  }

  // A process of this user, one of `size`, with its restart slot in heap_.
  ProcessRecord process(int32_t pid, const char* unique_id, uint32_t size) const {
    ProcessRecord p = test_process(0);
    p.virt_pid = pid;
    p.uid = getuid();
    p.gid = getgid();
    p.computation_size = size;
    p.restart_info_slot = heap_.start() + 64;
    strcpy(p.unique_id, unique_id);
    strcpy(p.progname, "app");
    return p;
  }

  // Writes the image of p (threads_, regions_, `sections`) under the name
  // libckpt gives it (or `name`); returns its path.
  std::string write(ProcessRecord p, const std::vector<TestSection>& sections = {}, std::string name = "") {
    p.thread_count = static_cast<uint32_t>(threads_.size());
    std::string path = dir_.file(name.empty() ? image_file_name(p) : name);
    EXPECT_EQ(write_image(path, false, regions_, sections, threads_, &p), "");
    return path;
  }

  // Opens and verifies one image as a restart by `host` would: "" or the
  // reason.
  std::string refusal(const std::string& path, const RestartHost* host = nullptr) {
    std::string error;
    auto img = ImageReader::open(path, error);
    if (img && verify_image(*img, host ? *host : host_, error) && img->verify_data(error)) return "";
    EXPECT_EQ(error.rfind("image " + path + ": ", 0), 0u) << "names the image: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
    return error;
  }

  void expect_refused(const std::string& path, const std::string& reason, const RestartHost* host = nullptr) {
    std::string error = refusal(path, host);
    EXPECT_NE(error.find(reason), std::string::npos) << "got \"" << error << "\", want \"" << reason << "\"";
  }

  // A set of images verified together (as one host's share of the
  // computation with `host_share`): "" or the reason.
  std::string set_refusal(const std::vector<std::string>& paths, bool host_share = false) {
    std::vector<std::unique_ptr<ImageReader>> open;
    std::vector<const ImageReader*> images;
    std::string error;
    for (const std::string& path : paths) {
      open.push_back(ImageReader::open(path, error));
      EXPECT_TRUE(open.back()) << error;
      if (!open.back()) return error;
      images.push_back(open.back().get());
    }
    return verify_image_set(images, error, host_share) ? "" : error;
  }

  void add_nodata_region(uint64_t start, uint64_t end, const std::string& path = "") {
    RegionRecord r{};
    r.start = start;
    r.end = end;
    r.prot = PROT_READ;
    r.flags = kRegionPrivate | kRegionAnonymous | kRegionNoData;
    regions_.push_back({r, path, nullptr});
  }

  TempDir dir_;
  Mapping heap_;
  RestartHost host_;
  ProcessRecord process_;
  std::vector<TestRegion> regions_;
  std::vector<ThreadRecord> threads_;
};

TEST_F(ImageVerify, AcceptsAnImageOfThisUser) { EXPECT_EQ(refusal(write(process_)), ""); }

TEST_F(ImageVerify, RefusesARegionPathThatClimbsOutOfDevShm) {
  Mapping shm(4096);
  regions_.push_back({region_record(shm, kRegionShared | kRegionFile), "/dev/shm/../../etc/passwd", shm.data()});
  expect_refused(write(process_), "/dev/shm/../../etc/passwd: its path is not an absolute path without");
  regions_.back().path = "/dev/shm//x";
  expect_refused(write(process_), "its path is not");
  regions_.back().path = "/dev/shm/./x";
  expect_refused(write(process_), "its path is not");
  regions_.back().path = "/dev/shm/ckpt..data";
  EXPECT_EQ(refusal(write(process_)), "");
}

TEST_F(ImageVerify, RefusesAWorkingDirectoryOrProgramWithDotDot) {
  strcpy(process_.cwd, "/home/../root");
  expect_refused(write(process_), "records the path /home/../root");
  strcpy(process_.cwd, "/home/user");
  strcpy(process_.exe, "/usr/bin/../../tmp/x");
  expect_refused(write(process_), "records the path /usr/bin/../../tmp/x");
}

TEST_F(ImageVerify, RefusesKernelAndNonCanonicalAddresses) {
  add_nodata_region(0xffffffffff600000, 0xffffffffff601000, "[vsyscall]");
  expect_refused(write(process_), "lies outside user space");
  regions_.back().rec.start = kUserSpaceEnd;
  regions_.back().rec.end = kUserSpaceEnd + 4096;
  expect_refused(write(process_), "lies outside user space");
  regions_.back().rec.start = kUserSpaceEnd - 4096;
  regions_.back().rec.end = kUserSpaceEnd;
  EXPECT_EQ(refusal(write(process_)), "");
}

TEST_F(ImageVerify, RefusesTheNullPageAndAnythingBelowMmapMinAddr) {
  add_nodata_region(0, 4096);
  expect_refused(write(process_), "lies below vm.mmap_min_addr (65536)");
  regions_.back().rec.start = 0xf000;
  regions_.back().rec.end = 0x10000;
  expect_refused(write(process_), "lies below vm.mmap_min_addr");
  regions_.back().rec.start = 0x10000;
  regions_.back().rec.end = 0x11000;
  EXPECT_EQ(refusal(write(process_)), "");
}

TEST_F(ImageVerify, RefusesARestartSlotOutsideWritableMemory) {
  process_.restart_info_slot = 0x10000;
  expect_refused(write(process_), "its restart slot 0x10000 is not in writable memory");
  process_.restart_info_slot = heap_.start() + 3;
  expect_refused(write(process_), "is not in writable memory");
}

TEST_F(ImageVerify, RefusesDuplicatedThreadRecords) {
  threads_.push_back(test_thread(4243, 0));
  expect_refused(write(process_), "has two records of thread 4243");
}

TEST_F(ImageVerify, RefusesTwoLeadersOrNone) {
  threads_[1].flags = kThreadLeader;
  expect_refused(write(process_), "two leader threads");
  threads_[0].flags = threads_[1].flags = 0;
  expect_refused(write(process_), "no leader thread");
  threads_[0].flags = kThreadLeader;
  threads_[0].virt_tid = 17;
  expect_refused(write(process_), "leader thread 17 is not process 4242");
}

TEST_F(ImageVerify, RefusesMoreThreadsThanAProcessCanHave) {
  for (int tid = 5000; threads_.size() <= size_t{kMaxThreads}; ++tid) threads_.push_back(test_thread(tid, 0));
  expect_refused(write(process_), "threads, more than the 1024 a process can have");
}

TEST_F(ImageVerify, RefusesMoreRegionsThanLibckptSaves) {
  for (uint64_t i = 0; regions_.size() <= kMaxRegions; ++i)
    add_nodata_region(0x100000000 + i * 8192, 0x100000000 + i * 8192 + 4096);
  expect_refused(write(process_), "more than " + std::to_string(kMaxRegions) + " Region records");
}

TEST_F(ImageVerify, RefusesMoreSectionsThanLibckptSaves) {
  std::vector<TestSection> sections(kMaxSections + 1, TestSection{"x", {}});
  expect_refused(write(process_, sections), "more than 1024 Section records");
}

TEST_F(ImageVerify, RefusesSectionsThatDoNotDecode) {
  PidSection pid{};
  pid.version = kPidSectionVersion;
  pid.vpid = 4242;
  strcpy(pid.pidtable_path, "/dev/shm/../../etc/ckpt-0-1-2.pids");
  std::vector<char> bytes(sizeof pid);
  memcpy(bytes.data(), &pid, sizeof pid);
  expect_refused(write(process_, {{kPidSection, bytes}}), "section pid: pid: the pid table /dev/shm/../../etc/");

  std::vector<char> fds(sizeof(FdSectionHeader) + sizeof(FdRecord));
  FdSectionHeader h{};
  h.version = kFdSectionVersion;
  h.count = 1;
  FdRecord r{};
  r.fd = 3;
  r.kind = FdKind::File;
  strcpy(r.path, "/tmp/../etc/shadow");
  memcpy(fds.data(), &h, sizeof h);
  memcpy(fds.data() + sizeof h, &r, sizeof r);
  expect_refused(write(process_, {{kFdSection, fds}}), "section fds: fds: fd 3 names /tmp/../etc/shadow");
  r.kind = FdKind::Pipe;
  strcpy(r.path, "pipe:[1234]");
  memcpy(fds.data() + sizeof h, &r, sizeof r);
  EXPECT_EQ(refusal(write(process_, {{kFdSection, fds}})), "");
}

TEST_F(ImageVerify, RefusesAnImageUnderAnotherProcesssName) {
  ProcessRecord other = process_;
  strcpy(other.progname, "evil");
  std::string path = write(other, {}, image_file_name(process_));
  expect_refused(path, "records program evil (id host-4242-1, generation 5), whose image is named ckpt_evil_host-4242-1_g5.ckpt: a foreign image");
}

TEST_F(ImageVerify, RefusesAnImageOthersCanWrite) {
  std::string path = write(process_);
  ASSERT_EQ(chmod(path.c_str(), 0620), 0);
  expect_refused(path, "writable by other users (mode 0620)");
}

TEST_F(ImageVerify, RefusesAnImageOwnedByAnotherUser) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to give a file to uid 65534";
  std::string path = write(process_);
  ASSERT_EQ(chown(path.c_str(), 65534, 65534), 0);
  expect_refused(path, "owned by uid 65534, but it records uid 0");
}

TEST_F(ImageVerify, OnlyRootMayRestartAnotherUsersProcesses) {
  std::string path = write(process_);
  RestartHost other = host_;
  other.uid = process_.uid + 1;
  expect_refused(path,
                 "records uid " + std::to_string(process_.uid) + ": uid " + std::to_string(other.uid) +
                     " cannot restart another user's processes (only root can)",
                 &other);
  RestartHost root = host_;
  root.uid = 0;
  EXPECT_EQ(refusal(path, &root), "");
}

TEST_F(ImageVerify, AUserRestartsOnlyIntoGroupsTheyAreIn) {
  // Root may own an image of any user; anyone else only their own.
  if (getuid() == 0) process_.uid = 1000;
  std::string path = write(process_);
  RestartHost user = host_;
  user.uid = process_.uid;
  user.gid = process_.gid + 1;
  user.groups.clear();
  expect_refused(path, "records gid " + std::to_string(process_.gid) + ", a group uid " + std::to_string(user.uid) +
                           " is not in", &user);
  user.groups = {process_.gid};
  EXPECT_EQ(refusal(path, &user), "");
}

TEST_F(ImageVerify, AcceptsOneCompleteCheckpoint) {
  std::string a = write(process(10, "h-10-1", 3)), b = write(process(11, "h-11-1", 3)),
              c = write(process(12, "h-12-1", 3));
  EXPECT_EQ(set_refusal({a, b, c}), "");
}

TEST_F(ImageVerify, RefusesAPartialSetNamingWhatIsMissing) {
  std::string a = write(process(10, "h-10-1", 3)), b = write(process(11, "h-11-1", 3)),
              c = write(process(12, "h-12-1", 3));
  EXPECT_EQ(set_refusal({a, c}), "the images are 2 of the 3 processes of checkpoint 5: 1 missing (not given: " + b + ")");
  unlink(b.c_str());
  EXPECT_EQ(set_refusal({a, c}), "the images are 2 of the 3 processes of checkpoint 5: 1 missing");
}

TEST_F(ImageVerify, RefusesImagesOfAnotherCheckpointOrUser) {
  ProcessRecord later = process(11, "h-11-1", 2);
  later.generation = 6;
  std::string a = write(process(10, "h-10-1", 2)), b = write(later);
  EXPECT_EQ(set_refusal({a, b}), "image " + b + " is not of the checkpoint of image " + a + ": its generation is 6, not 5");
  ProcessRecord stranger = process(11, "h-11-1", 2);
  stranger.uid += 1;
  std::string s = write(stranger);
  EXPECT_NE(set_refusal({a, s}).find("its uid is " + std::to_string(stranger.uid)), std::string::npos);
  // Same generation, size and user, but another computation's process.
  ProcessRecord other_run = process(11, "h-11-1", 2);
  other_run.computation_id = 0xbeef;
  ProcessRecord ours = process(10, "h-10-1", 2);
  ours.computation_id = 0xcafe;
  std::string o = write(ours), r = write(other_run);
  EXPECT_EQ(set_refusal({o, r}), "image " + r + " is not of the checkpoint of image " + o +
                                     ": its computation is 0xbeef, not 0xcafe");
}

TEST_F(ImageVerify, RefusesOneProcessTwice) {
  ProcessRecord renamed = process(11, "h-10-1", 2);
  strcpy(renamed.progname, "renamed");
  std::string a = write(process(10, "h-10-1", 2)), b = write(renamed);
  EXPECT_EQ(set_refusal({a, b}), "images " + a + " and " + b + " record the same unique id h-10-1 (one process twice?)");
  std::string c = write(process(10, "h-12-1", 2));
  EXPECT_EQ(set_refusal({a, c}), "images " + a + " and " + c + " record the same pid 10 on node1 (one process twice?)");
}

// Each host had its own pids: the same pid on two hosts is two processes.
TEST_F(ImageVerify, AcceptsOnePidOnTwoHosts) {
  ProcessRecord there = process(10, "h-12-1", 2);
  strcpy(there.hostname, "node2");
  std::string a = write(process(10, "h-10-1", 2)), b = write(there);
  EXPECT_EQ(set_refusal({a, b}), "");
}

// One host's share of a computation on several hosts: fewer images than
// processes, but still one checkpoint of one computation.
TEST_F(ImageVerify, HostShareMayBePartOfTheComputation) {
  std::string a = write(process(10, "h-10-1", 3)), b = write(process(11, "h-11-1", 3));
  EXPECT_EQ(set_refusal({a, b}, true), "");
  EXPECT_NE(set_refusal({a, b}), "");
  ProcessRecord other = process(12, "h-12-1", 3);
  other.generation = 6;
  const std::string c = write(other);
  EXPECT_NE(set_refusal({a, c}, true).find("its generation is 6, not 5"), std::string::npos) << set_refusal({a, c}, true);
}

TEST(PlainPath, IsAbsoluteWithoutEmptyDotOrDotDotComponents) {
  EXPECT_TRUE(is_plain_path("/"));
  EXPECT_TRUE(is_plain_path("/dev/shm/sem.x"));
  EXPECT_TRUE(is_plain_path("/a/..b/c.. d/...(deleted)"));
  EXPECT_FALSE(is_plain_path(""));
  EXPECT_FALSE(is_plain_path("dev/shm/x"));
  EXPECT_FALSE(is_plain_path("/dev/shm/../x"));
  EXPECT_FALSE(is_plain_path("/dev/shm/.."));
  EXPECT_FALSE(is_plain_path("/dev/./shm"));
  EXPECT_FALSE(is_plain_path("/dev//shm"));
  EXPECT_FALSE(is_plain_path("/dev/shm/"));
}

}  // namespace
}  // namespace ckpt::image
