// pid_section_dump IMAGE...: prints section "pid" of each image in the
// format programs/pid_zombies.c predicts ("process", "table", "zombie" lines).
#include <cstdio>
#include <cstring>
#include <string>

#include "image_reader.h"
#include "tree_sections.h"

int main(int argc, char** argv) {
  using namespace ckpt::image;
  for (int i = 1; i < argc; ++i) {
    std::string error;
    auto img = ImageReader::open(argv[i], error);
    if (!img) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    bool found = false;
    for (const Section& s : img->sections()) {
      if (s.name != kPidSection) continue;
      PidSection p;
      if (s.data.size() != sizeof p) {
        std::fprintf(stderr, "%s: section pid has %zu bytes, not %zu\n", argv[i], s.data.size(), sizeof p);
        return 1;
      }
      std::memcpy(&p, s.data.data(), sizeof p);
      if (p.version != kPidSectionVersion || p.zombie_count > kMaxZombies) {
        std::fprintf(stderr, "%s: bad section pid (version %u, %u zombies)\n", argv[i], p.version, p.zombie_count);
        return 1;
      }
      std::printf("table %s\n", p.pidtable_path);
      std::printf("process %d %d %d %d\n", p.vpid, p.vppid, p.vpgid, p.vsid);
      for (uint32_t z = 0; z < p.zombie_count; ++z)
        std::printf("zombie %d %d %d\n", p.zombies[z].vpid, p.zombies[z].wait_status, p.zombies[z].vpgid);
      found = true;
    }
    if (!found) {
      std::fprintf(stderr, "%s: no section pid\n", argv[i]);
      return 1;
    }
  }
  return 0;
}
