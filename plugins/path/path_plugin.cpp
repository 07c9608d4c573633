// Path virtualization: the process-wide path map (loaded from CKPT_PATH_MAP
// at start-up and again after a restart that brings a new one), the public
// rewriting functions every path wrapper calls (plugin.h), and the map's
// section in the image, from which ckpt_restart learns where the saved
// paths really were.
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/environment.h"
#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "path_map.h"
#include "path_section.h"
#include "path_state.h"

namespace {

using ckpt::path::PathMap;

// The wrappers' one table (the process-wide exception of the house rules):
// written only before main and while every thread is frozen at a restart.
constinit PathMap g_map;

void load_map() {
  const char* text = getenv(CKPT_ENV_PATH_MAP);
  if (!text) return;  // a restart without a new map keeps the saved one
  size_t line;
  ckpt::path::MapError e = g_map.load(text, &line);
  // ckpt_launch and ckpt_restart validate the map; only a hand-made
  // environment gets here, and the process then runs without one. (No
  // stdio: at a restart, frozen threads may hold its locks.)
  if (e != ckpt::path::MapError::None) {
    char why[200] = CKPT_ENV_PATH_MAP " refused, no path map: ";
    strncat(why, ckpt::path::map_error_text(e), sizeof why - strlen(why) - 1);
    ckpt_log_warning(why);
  }
}

// The section: header and text in one static buffer (no allocation while frozen).
struct SectionBuffer {
  ckpt::path::PathSectionHeader header;
  char text[PathMap::kMaxText];
};
SectionBuffer g_section;

void save_map() {
  if (g_map.empty()) return;
  size_t used = 0;
  for (size_t i = 0; i < g_map.size(); ++i) {
    const char* v = g_map.virtual_prefix(i);
    const char* r = g_map.real_prefix(i);
    size_t vl = strlen(v), rl = strlen(r);
    // The table was loaded from text of this size: it fits again.
    memcpy(g_section.text + used, v, vl);
    g_section.text[used + vl] = '=';
    memcpy(g_section.text + used + vl + 1, r, rl);
    g_section.text[used + vl + 1 + rl] = '\n';
    used += vl + rl + 2;
  }
  g_section.header = {ckpt::path::kPathSectionVersion, static_cast<uint32_t>(used)};
  ckpt_save_section(ckpt::path::kPathSection, &g_section, sizeof g_section.header + used);
}

void on_event(ckpt_event_t event, void*) {
  switch (event) {
    case CKPT_EVENT_RESTART:  // ckpt_restart --path-map set CKPT_PATH_MAP anew
      load_map();
      break;
    case CKPT_EVENT_PRE_CHECKPOINT:
      save_map();
      break;
    default:
      break;
  }
}

const ckpt_plugin kPlugin = {"path", on_event};
// The map is loaded before the other plugins start and before other
// libraries' constructors run: their files are the application's too.
__attribute__((constructor(150))) void load_path_map() { load_map(); }
__attribute__((constructor(200))) void register_path_plugin() { ckpt_register_plugin(&kPlugin); }

}  // namespace

const ckpt::path::PathMap& ckpt::path::process_map() { return g_map; }

extern "C" {

const char* ckpt_path_to_real(const char* path, char* buf, size_t cap) {
  if (g_map.empty()) return path;
  const long len = ckpt_user_string_length(path, cap);
  if (len < 0 || path[0] != '/') return path;
  return g_map.to_real(path, static_cast<size_t>(len), buf, cap) < 0 ? path : buf;
}

size_t ckpt_path_to_virtual(char* buf, size_t len, size_t cap) {
  if (g_map.empty() || len == 0 || buf[0] != '/') return len;
  char out[PATH_MAX];
  long n = g_map.to_virtual(buf, len, out, sizeof out);
  if (n < 0) return len;
  size_t keep = static_cast<size_t>(n) < cap ? static_cast<size_t>(n) : cap;
  memcpy(buf, out, keep);
  return keep;
}

}  // extern "C"
