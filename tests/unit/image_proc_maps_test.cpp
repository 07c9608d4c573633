#include <gtest/gtest.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "image_test_util.h"
#include "proc_maps.h"

namespace ckpt {
namespace {

MapEntry parse(const std::string& line) {
  MapEntry e{};
  EXPECT_TRUE(parse_maps_line(line.data(), line.size(), e)) << line;
  return e;
}

TEST(ParseMapsLine, ReadsAFileMapping) {
  MapEntry e = parse("55911c03e000-55911c044000 r-xp 00002000 fe:00 247498                     /usr/bin/head\n");
  EXPECT_EQ(e.start, 0x55911c03e000u);
  EXPECT_EQ(e.end, 0x55911c044000u);
  EXPECT_EQ(e.offset, 0x2000u);
  EXPECT_EQ(e.prot, uint32_t{PROT_READ | PROT_EXEC});
  EXPECT_FALSE(e.shared);
  EXPECT_EQ(e.dev_major, 0xfeu);
  EXPECT_EQ(e.dev_minor, 0u);
  EXPECT_EQ(e.inode, 247498u);
  EXPECT_STREQ(e.path, "/usr/bin/head");
  EXPECT_FALSE(e.path_deleted);
}

TEST(ParseMapsLine, KeepsSpacesInPathsAndStripsDeleted) {
  MapEntry e = parse("7f0000000000-7f0000001000 rw-s 00000000 00:05 12 /dev/shm/my file  two (1).dat (deleted)");
  EXPECT_STREQ(e.path, "/dev/shm/my file  two (1).dat");
  EXPECT_TRUE(e.path_deleted);
  EXPECT_TRUE(e.shared);
  EXPECT_EQ(e.prot, uint32_t{PROT_READ | PROT_WRITE});
  e = parse("7f0000000000-7f0000001000 rw-s 00000000 00:01 2049 /memfd:arena (deleted)\n");
  EXPECT_STREQ(e.path, "/memfd:arena");
  EXPECT_TRUE(e.path_deleted);
  e = parse("7f0000000000-7f0000001000 r--p 00000000 08:01 99 /srv/(deleted)");
  EXPECT_STREQ(e.path, "/srv/(deleted)");
  EXPECT_FALSE(e.path_deleted);
}

TEST(ParseMapsLine, ReadsKernelRegionsAndAnonymousLines) {
  struct Case {
    const char* line;
    const char* path;
  } cases[] = {
      {"5555577a1000-5555577c2000 rw-p 00000000 00:00 0                          [heap]", "[heap]"},
      {"7ffd4c0d3000-7ffd4c0f4000 rw-p 00000000 00:00 0                          [stack]", "[stack]"},
      {"7f2f0ed2f000-7f2f0ed33000 r--p 00000000 00:00 0                          [vvar]", "[vvar]"},
      {"7f2f0ed33000-7f2f0ed35000 r--p 00000000 00:00 0                          [vvar_vclock]", "[vvar_vclock]"},
      {"7f2f0ed35000-7f2f0ed37000 r-xp 00000000 00:00 0                          [vdso]", "[vdso]"},
      {"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]", "[vsyscall]"},
      {"7f2f0ed00000-7f2f0ed10000 rw-p 00000000 00:00 0 [anon:glibc malloc]", "[anon:glibc malloc]"},
      {"7f2f0ed00000-7f2f0ed10000 rw-p 00000000 00:00 0", ""},
      {"7f2f0ed00000-7f2f0ed10000 ---p 00000000 00:00 0 \n", ""},
  };
  for (const Case& c : cases) {
    MapEntry e = parse(c.line);
    EXPECT_STREQ(e.path, c.path) << c.line;
  }
  EXPECT_EQ(parse(cases[5].line).start, 0xffffffffff600000u);
  EXPECT_EQ(parse(cases[5].line).prot, uint32_t{PROT_EXEC});
  EXPECT_EQ(parse(cases[8].line).prot, 0u);
}

TEST(ParseMapsLine, RejectsMalformedLines) {
  const char* bad[] = {
      "",
      "\n",
      "7f00-7f10",
      "7f00 7f10 rw-p 00000000 00:00 0",
      "7f10-7f00 rw-p 00000000 00:00 0",                     // start >= end
      "7f00-7f10 rwzp 00000000 00:00 0",                     // bad perm
      "7f00-7f10 rw-q 00000000 00:00 0",                     // neither shared nor private
      "7f00-7f10 rw-p 00000000 0000 0",                      // no ':'
      "7f00-7f10 rw-p 00000000 00:00 x",                     // inode not a number
      "7f00-7f10 rw-p 00000000 00:00 0x",                    // junk after inode
      "10000000000000000-10000000000000001 rw-p 0 00:00 0",  // > 64 bits
  };
  for (const char* line : bad) {
    MapEntry e{};
    EXPECT_FALSE(parse_maps_line(line, strlen(line), e)) << line;
  }
  std::string longpath = "7f00-7f10 rw-p 00000000 00:00 0 /" + std::string(600, 'a');
  MapEntry e{};
  EXPECT_FALSE(parse_maps_line(longpath.data(), longpath.size(), e)) << "path does not fit";
}

const MapEntry* find(const std::vector<MapEntry>& maps, long n, uint64_t addr) {
  for (long i = 0; i < n; i++)
    if (addr >= maps[i].start && addr < maps[i].end) return &maps[i];
  return nullptr;
}

TEST(ReadProcMaps, SeesOwnStackAndAFreshFileMapping) {
  image::test::TempDir dir;
  std::string file = dir.file("mapped file with spaces.bin");
  int fd = open(file.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 3 * 4096), 0);
  void* m = mmap(nullptr, 2 * 4096, PROT_READ, MAP_SHARED, fd, 4096);
  ASSERT_NE(m, MAP_FAILED);
  close(fd);

  std::vector<MapEntry> maps(4096);
  long n = read_proc_maps(0, maps.data(), maps.size());
  ASSERT_GT(n, 0) << strerror(-n);
  int local = 0;
  const MapEntry* stack = find(maps, n, reinterpret_cast<uint64_t>(&local));
  ASSERT_TRUE(stack);
  EXPECT_STREQ(stack->path, "[stack]");
  EXPECT_EQ(stack->prot, uint32_t{PROT_READ | PROT_WRITE});

  const MapEntry* e = find(maps, n, reinterpret_cast<uint64_t>(m));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->start, reinterpret_cast<uint64_t>(m));
  EXPECT_EQ(e->end, e->start + 2 * 4096);
  EXPECT_EQ(e->offset, 4096u);
  EXPECT_TRUE(e->shared);
  EXPECT_EQ(e->prot, uint32_t{PROT_READ});
  EXPECT_EQ(std::string(e->path), file);
  EXPECT_FALSE(e->path_deleted);

  unlink(file.c_str());
  n = read_proc_maps(getpid(), maps.data(), maps.size());
  ASSERT_GT(n, 0);
  e = find(maps, n, reinterpret_cast<uint64_t>(m));
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->path), file);
  EXPECT_TRUE(e->path_deleted);
  munmap(m, 2 * 4096);
}

TEST(ReadProcMaps, ReadsMapsLargerThanItsBuffer) {
  // Alternating protections keep the kernel from merging neighbours: 400
  // mappings print far more than one read's worth of text.
  const size_t kPages = 400;
  char* base = static_cast<char*>(mmap(nullptr, kPages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(base, MAP_FAILED);
  for (size_t i = 0; i < kPages; i += 2) mprotect(base + i * 4096, 4096, PROT_READ);

  std::vector<MapEntry> maps(8192);
  long n = read_proc_maps(0, maps.data(), maps.size());
  ASSERT_GT(n, static_cast<long>(kPages)) << strerror(-n);
  for (size_t i = 0; i < kPages; i++) {
    const MapEntry* e = find(maps, n, reinterpret_cast<uint64_t>(base + i * 4096));
    ASSERT_TRUE(e) << i;
    EXPECT_EQ(e->start, reinterpret_cast<uint64_t>(base + i * 4096));
    EXPECT_EQ(e->prot, i % 2 ? uint32_t{PROT_READ | PROT_WRITE} : uint32_t{PROT_READ}) << i;
  }
  for (long i = 1; i < n; i++) EXPECT_LE(maps[i - 1].end, maps[i].start) << "sorted, no line lost or split";
  munmap(base, kPages * 4096);
}

TEST(ReadProcMaps, ReportsErrors) {
  std::vector<MapEntry> maps(4);
  EXPECT_EQ(read_proc_maps(0, maps.data(), maps.size()), -ENOSPC);
  EXPECT_EQ(read_proc_maps(0x3fffffff, maps.data(), maps.size()), -ENOENT);
}

}  // namespace
}  // namespace ckpt
