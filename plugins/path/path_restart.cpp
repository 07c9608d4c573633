// The path kind's restart side (ckpt/restart.h), rank 5: its check runs
// before any kind looks for a file.
//
// The image holds the paths the kernel gave at checkpoint time: REAL paths
// under the map the process ran with (section "path"). Under a new map
// (ckpt_restart --path-map) the same VIRTUAL path names another REAL file,
// so every saved path is relocated by the composition of the two maps: for
// each VIRTUAL prefix of either, its old REAL place to its new one (a
// prefix one map lacks stands for itself). The kinds then reopen files,
// working directories and mappings through ctx.paths as they do for
// --relocate. The restored processes load the new map themselves
// (CKPT_EVENT_RESTART, from the CKPT_PATH_MAP the restart hands them).
#include <cstring>
#include <set>
#include <string>

#include "ckpt/restart.h"
#include "path_map.h"
#include "path_section.h"

namespace ckpt {
namespace {

using path::MapError;
using path::PathMap;

// Where `virt` lies under `map` (itself if no prefix covers it).
std::string real_place(const PathMap& map, const char* virt) {
  char out[PathMap::kMaxText + 4096];
  return map.to_real(virt, std::strlen(virt), out, sizeof out) < 0 ? std::string(virt) : std::string(out);
}

class PathRestart : public RestartKind {
 public:
  const char* name() const override { return "path"; }
  int rank() const override { return 5; }

  void check(RestartContext& ctx) override {
    if (!ctx.path_map) return;  // the saved map stays: the saved paths are where they were
    size_t line;
    saved_.clear();
    added_.clear();
    for (const RestartProcess& p : ctx.processes) {
      const image::Section* s = find(*p.image);
      if (!s) continue;
      path::PathSectionHeader h;
      if (s->data.size() < sizeof h) throw RestartError("image " + p.image->path() + ": section path: too short");
      std::memcpy(&h, s->data.data(), sizeof h);
      if (h.version != path::kPathSectionVersion || s->data.size() != sizeof h + h.text_bytes)
        throw RestartError("image " + p.image->path() + ": section path: version " + std::to_string(h.version) +
                           " or size " + std::to_string(s->data.size()) + " is not this ckpt's");
      std::string text(reinterpret_cast<const char*>(s->data.data()) + sizeof h, h.text_bytes);
      MapError e = saved_.load(text.c_str(), &line);
      if (e != MapError::None)
        throw RestartError("image " + p.image->path() + ": section path: line " + std::to_string(line) + ": " +
                           path::map_error_text(e));
      break;  // one map for the computation: every process inherits it from ckpt_launch
    }
    MapError e = next_.load(ctx.path_map->c_str(), &line);
    if (e != MapError::None)
      throw RestartError("--path-map: entry " + std::to_string(line) + ": " + path::map_error_text(e));
    relocate(ctx, saved_);
    relocate(ctx, next_);
  }

 private:
  static const image::Section* find(const image::ImageReader& img) {
    for (const image::Section& s : img.sections())
      if (s.name == path::kPathSection) return &s;
    return nullptr;
  }

  // For each VIRTUAL prefix of `from`: its old REAL place to its new one.
  void relocate(RestartContext& ctx, const PathMap& from) {
    for (size_t i = 0; i < from.size(); ++i) {
      const char* virt = from.virtual_prefix(i);
      std::string old_place = real_place(saved_, virt), new_place = real_place(next_, virt);
      // A prefix both maps name comes through here twice, the same both times.
      if (old_place != new_place && added_.insert(old_place).second) ctx.paths.add_prefix(old_place, new_place);
    }
  }

  PathMap saved_, next_;
  std::set<std::string> added_;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::PathRestart)
