// Shared helpers of the image unit tests: scratch directories, test memory
// regions and a writer front end that builds a small but complete image.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "image_format.h"
#include "image_writer.h"

namespace ckpt::image::test {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ckpt_image_test.XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    if (DIR* d = opendir(path_.c_str())) {
      while (dirent* e = readdir(d))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) out.push_back(e->d_name);
      closedir(d);
    }
    return out;
  }

 private:
  std::string path_;
};

inline std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::string& path, const std::vector<char>& bytes) {
  // A new inode rather than truncating: ext4 flushes a file truncated and
  // rewritten on close (auto_da_alloc), which made these tests crawl.
  unlink(path.c_str());
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

inline constexpr int kSkip = 77;

// Runs body in a forked child (for process-wide changes: limits, mount
// namespaces, seccomp). body returns "" on success or what went wrong; the
// result is that text, or "skip" if body exited with kSkip.
inline std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string r = body();
    if (write(fds[1], r.data(), r.size()) != static_cast<ssize_t>(r.size())) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == kSkip) return "skip";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child died: " + out;
  return out;
}

// A page-aligned anonymous mapping, standing in for a region of a process.
class Mapping {
 public:
  explicit Mapping(size_t size) : size_(size) {
    addr_ = static_cast<char*>(
        mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  }
  ~Mapping() { munmap(addr_, size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* data() const { return addr_; }
  size_t size() const { return size_; }
  uint64_t start() const { return reinterpret_cast<uint64_t>(addr_); }
  uint64_t end() const { return start() + size_; }

 private:
  char* addr_;
  size_t size_;
};

// One region to write: its record, path and whether its bytes are saved.
struct TestRegion {
  RegionRecord rec;
  std::string path;
  const void* data;  // nullptr: no data
  // With `sparse`, only these runs of `data` are stored (begin_region,
  // add_pages, end_region); otherwise all of it.
  bool sparse = false;
  std::vector<PageExtent> runs = {};
};

inline RegionRecord region_record(const Mapping& m, uint32_t flags, uint32_t prot = PROT_READ | PROT_WRITE) {
  RegionRecord r{};
  r.start = m.start();
  r.end = m.end();
  r.prot = prot;
  r.flags = flags;
  return r;
}

inline ProcessRecord test_process(uint32_t threads) {
  ProcessRecord p{};
  p.virt_pid = 4242;
  p.real_pid = 777;
  p.virt_ppid = 1;
  p.uid = 1000;
  p.computation_size = 3;
  p.thread_count = threads;
  p.generation = 5;
  p.checkpoint_time_ns = 1700000000123456789;
  p.start_brk = 0x555555560000;
  p.brk = 0x555555581000;
  strcpy(p.unique_id, "host-4242-1700000000");
  strcpy(p.progname, "app \"quoted\"");
  strcpy(p.hostname, "node1");
  strcpy(p.cwd, "/home/user/run dir");
  strcpy(p.exe, "/usr/bin/app");
  return p;
}

inline ThreadRecord test_thread(int tid, uint32_t flags) {
  ThreadRecord t{};
  t.virt_tid = tid;
  t.real_tid = tid + 1000;
  t.flags = flags;
  t.fs_base = 0x7f0000001000 + tid;
  t.rseq_addr = 0x7f0000002000 + tid;
  t.rseq_len = 32;
  t.rseq_sig = 0x53053053;
  t.sigmask = 1ull << 9;
  t.ctx.rip = 0x401000 + tid;
  t.ctx.rsp = 0x7ffd00000000 + tid;
  t.ctx.mxcsr = 0x1f80;
  t.ctx.fpu_cw = 0x37f;
  return t;
}

struct TestSection {
  std::string name;
  std::vector<char> data;
};

// The names in `dir` besides `path`'s, run together: what a failed write
// left behind ("" when nothing).
inline std::string files_besides(const std::string& dir, const std::string& path) {
  DIR* d = opendir(dir.c_str());
  std::string extra;
  while (dirent* e = readdir(d))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && path != dir + "/" + e->d_name) extra += e->d_name;
  closedir(d);
  return extra;
}

// How write_image opens its writer (ImageWriter::open).
struct WriteSettings {
  int compress_threads = 1;
  bool durable = true;
  // Nonzero: the image's id (otherwise random), for tests that compare the
  // bytes of two images.
  uint64_t image_id = 0;
  // Region bytes added as stable (ImageWriter::add_pages): written where
  // they lie, not copied first.
  bool stable = false;
};

// Writes an image with one process (test_process(), or `process`),
// `threads`, and the given regions and sections; returns "" or the writer's
// error.
inline std::string write_image(const std::string& path, bool compress,
                               const std::vector<TestRegion>& regions,
                               const std::vector<TestSection>& sections = {},
                               const std::vector<ThreadRecord>& threads = {},
                               const ProcessRecord* process = nullptr, WriteSettings settings = {}) {
  ImageWriter w;
  ProcessRecord p = process ? *process : test_process(static_cast<uint32_t>(threads.size()));
  bool ok = w.open(path.c_str(), compress, settings.compress_threads, settings.durable) &&
            w.add_record(RecordType::Process, &p, sizeof(p));
  if (ok && settings.image_id) w.set_lineage(settings.image_id, 1, CheckpointMode::FullFirst, 0, 0, nullptr);
  for (const ThreadRecord& t : threads) ok = ok && w.add_record(RecordType::Thread, &t, sizeof(t));
  for (const TestRegion& r : regions) {
    const char* path = r.path.empty() ? nullptr : r.path.c_str();
    if (!r.sparse && !(settings.stable && r.data)) {
      ok = ok && w.add_region(r.rec, path, r.data);
      continue;
    }
    ok = ok && w.begin_region(r.rec, path);
    if (!r.sparse)
      ok = ok && w.add_pages(0, r.data, r.rec.end - r.rec.start, true);
    for (const PageExtent& e : r.runs)
      ok = ok && w.add_pages(e.offset, static_cast<const char*>(r.data) + e.offset, e.size, settings.stable);
    ok = ok && w.end_region();
  }
  for (const TestSection& s : sections)
    ok = ok && w.add_section(s.name.c_str(), s.data.data(), static_cast<uint32_t>(s.data.size()));
  ok = ok && w.commit();
  return ok ? "" : w.error();
}

inline void fill_random(char* p, size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    memcpy(p + i, &v, 8);
  }
}

inline void fill_text(char* p, size_t n) {
  static const char kText[] = "checkpoint and restart, the same bytes again and again; ";
  for (size_t i = 0; i < n; i++) p[i] = kText[i % (sizeof(kText) - 1)];
}

// A set of regions covering the writer's cases: compressible text, random
// bytes spanning two compressed chunks (lz4 stores them raw), zeros, a region
// without data and a file region with a path that needs escaping.
class StandardRegions {
 public:
  StandardRegions()
      : text_(3 * 4096), random_(kChunkSize + 8 * 4096), zeros_(2 * 4096), guard_(4096), file_(4096) {
    fill_text(text_.data(), text_.size());
    fill_random(random_.data(), random_.size(), 1);
    fill_text(file_.data(), file_.size());
    file_.data()[100] = 'X';
    regions_ = {
        {region_record(text_, kRegionPrivate | kRegionAnonymous | kRegionHeap), "[heap]", text_.data()},
        {region_record(random_, kRegionPrivate | kRegionAnonymous), "", random_.data()},
        {region_record(zeros_, kRegionPrivate | kRegionAnonymous | kRegionStack), "[stack]", zeros_.data()},
        {region_record(guard_, kRegionPrivate | kRegionAnonymous | kRegionNoData, 0), "", nullptr},
        {region_record(file_, kRegionPrivate | kRegionFile, PROT_READ | PROT_EXEC),
         "/opt/my lib/\"odd\"\\name\t\xff\xc3\xa9.so", file_.data()},
    };
    regions_.back().rec.file_offset = 0x3000;
  }
  const std::vector<TestRegion>& regions() const { return regions_; }

 private:
  Mapping text_, random_, zeros_, guard_, file_;
  std::vector<TestRegion> regions_;
};

inline std::vector<TestSection> standard_sections() {
  TestSection small{"fd", {'a', 'b', 'c'}};
  TestSection empty{"timer", {}};
  TestSection big{"pipe-data-0123456789abcdefghij", std::vector<char>(100000)};
  fill_random(big.data.data(), big.data.size(), 2);
  return {small, empty, big};
}

inline std::vector<ThreadRecord> standard_threads() {
  return {test_thread(4242, kThreadLeader), test_thread(4243, 0), test_thread(4244, kThreadCheckpointer)};
}

}  // namespace ckpt::image::test
