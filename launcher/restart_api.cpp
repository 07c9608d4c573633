// The registry and helpers behind ckpt/restart.h.
#include <algorithm>

#include "ckpt/restart.h"

namespace ckpt {
namespace {

// Filled by static initialisers of the kinds' objects, before main.
std::vector<RestartKind*>& registry() {
  static std::vector<RestartKind*> kinds;
  return kinds;
}

}  // namespace

void register_restart_kind(RestartKind* kind) {
  auto& kinds = registry();
  kinds.insert(std::upper_bound(kinds.begin(), kinds.end(), kind,
                                [](const RestartKind* a, const RestartKind* b) { return a->rank() < b->rank(); }),
               kind);
}

const std::vector<RestartKind*>& restart_kinds() { return registry(); }

std::string RestartProcess::describe() const {
  return "process " + std::to_string(ids.vpid) + " (" + image->process().progname + ")";
}

const image::Section* RestartContext::find_section(const std::string& name) const {
  for (const RestartProcess& p : processes)
    for (const image::Section& s : p.image->sections())
      if (s.name == name) return &s;
  return nullptr;
}

}  // namespace ckpt
