// it_craft_image IN OUT EDIT...: writes OUT, a copy of the image IN with
// EDITs applied and every checksum right, as someone crafting an image
// would: only what a restart checks can tell it is wrong. Reads and writes
// through the project's own image reader and writer.
//
//   shm-path=PATH      the first saved region other than heap and stack
//                      becomes a shared mapping of the file PATH (whose bytes
//                      the shm kind would write back into PATH)
//   add-region=S-E     one more region, without data, at hex addresses S-E
//   dup-thread         the first thread's record once more
//   second-leader      a second thread marked as the leader
//   extra-threads=N    N more thread records with new ids
//   uid=N              the process's recorded uid
//   section-patch=NAME:OFFSET:HEX  bytes HEX written over section NAME at OFFSET
//   section-size=NAME:N            section NAME cut to (or padded with zeros to) N bytes
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "image_reader.h"
#include "image_writer.h"

namespace {

using namespace ckpt::image;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "it_craft_image: %s\n", why.c_str());
  std::exit(1);
}

struct Crafted {
  ProcessRecord process;
  std::vector<ThreadRecord> threads;
  std::vector<Region> regions;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> sections;
};

std::vector<uint8_t>& section(Crafted& c, const std::string& name) {
  for (auto& [n, bytes] : c.sections)
    if (n == name) return bytes;
  die("no section " + name);
}

void apply(const std::string& edit, Crafted& c) {
  std::string name = edit.substr(0, edit.find('=')), value = edit.substr(std::min(edit.size(), name.size() + 1));
  if (name == "shm-path") {
    for (Region& r : c.regions)
      if (!(r.rec.flags & (kRegionNoData | kRegionVdso | kRegionHeap | kRegionStack))) {
        r.rec.flags = (r.rec.flags & ~(kRegionPrivate | kRegionAnonymous | kRegionFileBacked)) | kRegionShared |
                      kRegionFile;
        r.rec.file_dev = r.rec.file_ino = r.rec.file_size = 0;
        r.rec.file_mtime_ns = 0;
        r.path = value;
        return;
      }
    die("no region to turn into shared memory");
  } else if (name == "add-region") {
    Region r{};
    if (std::sscanf(value.c_str(), "%lx-%lx", &r.rec.start, &r.rec.end) != 2) die("bad range " + value);
    r.rec.prot = PROT_READ;
    r.rec.flags = kRegionPrivate | kRegionAnonymous;
    c.regions.push_back(r);
  } else if (name == "dup-thread") {
    c.threads.push_back(c.threads.at(0));
  } else if (name == "second-leader") {
    for (ThreadRecord& t : c.threads)
      if (!(t.flags & kThreadLeader)) {
        t.flags |= kThreadLeader;
        return;
      }
    die("no second thread");
  } else if (name == "extra-threads") {
    for (int i = 0, n = std::atoi(value.c_str()); i < n; ++i) {
      ThreadRecord t = c.threads.at(0);
      t.flags = 0;
      t.virt_tid = 1000000 + i;
      c.threads.push_back(t);
    }
  } else if (name == "uid") {
    c.process.uid = static_cast<uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
  } else if (name == "section-patch" || name == "section-size") {
    size_t colon = value.find(':');
    if (colon == std::string::npos) die("bad edit " + edit);
    std::vector<uint8_t>& bytes = section(c, value.substr(0, colon));
    std::string rest = value.substr(colon + 1);
    if (name == "section-size") {
      bytes.resize(std::strtoul(rest.c_str(), nullptr, 10));
      return;
    }
    size_t at = std::strtoul(rest.c_str(), nullptr, 10);
    std::string hex = rest.substr(rest.find(':') + 1);
    for (size_t i = 0; i + 1 < hex.size(); i += 2, ++at) {
      if (at >= bytes.size()) die("patch beyond the section's end: " + edit);
      bytes[at] = static_cast<uint8_t>(std::strtoul(hex.substr(i, 2).c_str(), nullptr, 16));
    }
  } else {
    die("unknown edit " + edit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) die("usage: it_craft_image IN OUT EDIT...");
  std::string error;
  auto in = ImageReader::open(argv[1], error);
  if (!in) die(error);
  Crafted c{in->process(), in->threads(), in->regions(), {}};
  for (const Section& s : in->sections()) c.sections.emplace_back(s.name, s.data);
  for (int i = 3; i < argc; ++i) apply(argv[i], c);
  c.process.thread_count = static_cast<uint32_t>(c.threads.size());

  ImageWriter out;
  bool ok = out.open(argv[2], in->compressed()) && out.add_record(RecordType::Process, &c.process, sizeof c.process);
  for (const ThreadRecord& t : c.threads) ok = ok && out.add_record(RecordType::Thread, &t, sizeof t);
  for (const Region& r : c.regions) {
    const char* path = r.path.empty() ? nullptr : r.path.c_str();
    if (r.rec.flags & kRegionNoData) {
      ok = ok && out.add_region(r.rec, path, nullptr);
      continue;
    }
    // The same stored pages as the original.
    std::vector<char> bytes(r.rec.end - r.rec.start);
    if (r.rec.data_size && !in->read_region(r, bytes.data(), error)) die(error);
    ok = ok && out.begin_region(r.rec, path);
    for (const PageExtent& e : r.extents) ok = ok && out.add_pages(e.offset, bytes.data() + e.offset, e.size);
    ok = ok && out.end_region();
  }
  for (const auto& [name, bytes] : c.sections)
    ok = ok && out.add_section(name.c_str(), bytes.data(), static_cast<uint32_t>(bytes.size()));
  if (!ok || !out.commit()) die(out.error());
  return 0;
}
