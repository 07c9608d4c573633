#include "exec_env.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ckpt/environment.h"
#include "log.h"

extern char** environ;

namespace ckpt {
namespace {

constexpr int kMaxSnapshot = 64;
constexpr size_t kArenaSize = 32 * 1024;
constexpr char kPrefix[] = "CKPT_";
constexpr char kPreload[] = "LD_PRELOAD";

char g_arena[kArenaSize];
size_t g_arena_used = 0;
const char* g_snapshot[kMaxSnapshot];  // "NAME=value", CKPT_* and LD_PRELOAD
int g_snapshot_count = 0;
char g_libckpt_path[4096];

size_t name_len(const char* entry) {
  const char* eq = strchr(entry, '=');
  return eq ? static_cast<size_t>(eq - entry) : strlen(entry);
}

bool same_name(const char* a, const char* b) {
  size_t n = name_len(a);
  return n == name_len(b) && memcmp(a, b, n) == 0;
}

bool has_name(const char* entry, const char* name) {
  size_t n = strlen(name);
  return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

bool is_handover(const char* entry) { return has_name(entry, kCoordFdVar) || has_name(entry, kExecStateVar); }

// Whether an exec must carry this variable along.
bool is_ours(const char* entry) {
  return (strncmp(entry, kPrefix, sizeof kPrefix - 1) == 0 && !is_handover(entry)) || has_name(entry, kPreload);
}

const char* find(char* const* env, const char* like) {
  if (!env) return nullptr;
  for (char* const* e = env; *e; ++e)
    if (same_name(*e, like)) return *e;
  return nullptr;
}

// An LD_PRELOAD value (after '=') that loads some libckpt.so already (a
// nested ckpt_launch may name another build: keep it).
bool preloads_libckpt(const char* entry) {
  const char* v = strchr(entry, '=');
  if (!v) return false;
  for (const char* p = v + 1; *p;) {
    size_t n = strcspn(p, ": ");
    const char* slash = static_cast<const char*>(memrchr(p, '/', n));
    const char* base = slash ? slash + 1 : p;
    size_t base_len = n - static_cast<size_t>(base - p);
    if (base_len >= 10 && memcmp(base, "libckpt.so", 10) == 0) return true;  // also libckpt.so.1
    p += n;
    while (*p == ':' || *p == ' ') ++p;
  }
  return false;
}

}  // namespace

void snapshot_exec_environment(const char* libckpt_path) {
  if (libckpt_path) format_to(g_libckpt_path, sizeof g_libckpt_path, "%s", libckpt_path);
  for (char** e = environ; e && *e && g_snapshot_count < kMaxSnapshot; ++e) {
    if (!is_ours(*e)) continue;
    size_t len = strlen(*e) + 1;
    if (g_arena_used + len > kArenaSize) break;
    memcpy(g_arena + g_arena_used, *e, len);
    g_snapshot[g_snapshot_count++] = g_arena + g_arena_used;
    g_arena_used += len;
  }
}

ExecEnv::~ExecEnv() {
  if (block_) munmap(block_, block_len_);
}

bool ExecEnv::map_block(size_t slots, size_t text) {
  block_len_ = (slots * sizeof(char*) + text + 4095) & ~size_t{4095};
  void* block = mmap(nullptr, block_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) {
    block_ = nullptr;
    errno = ENOMEM;
    return false;
  }
  block_ = block;
  return true;
}

char* const* ExecEnv::build(char* const* envp, const char* const* extra, int extra_count) {
  size_t given = 0;
  for (char* const* e = envp; e && *e; ++e) ++given;
  size_t ours_now = 0;
  for (char** e = environ; e && *e; ++e) ours_now += is_ours(*e) ? 1 : 0;
  size_t slots = given + ours_now + static_cast<size_t>(g_snapshot_count) + static_cast<size_t>(extra_count) + 2;

  // LD_PRELOAD: the caller's if it loads libckpt; else ours in front of the
  // caller's; else the one libckpt started with (or is running with now).
  const char* given_preload = find(envp, kPreload);
  const char* current_preload = find(environ, kPreload);
  const char* preload_entry = nullptr;  // an existing "LD_PRELOAD=..." to reuse
  const char* prepend_to = nullptr;     // build "LD_PRELOAD=<libckpt>:<this value>"
  if (given_preload && preloads_libckpt(given_preload)) {
    preload_entry = given_preload;
  } else if (given_preload) {
    prepend_to = strchr(given_preload, '=') + 1;
  } else if (current_preload && preloads_libckpt(current_preload)) {
    preload_entry = current_preload;
  } else {
    for (int i = 0; i < g_snapshot_count; ++i)
      if (has_name(g_snapshot[i], kPreload) && preloads_libckpt(g_snapshot[i])) preload_entry = g_snapshot[i];
    if (!preload_entry) prepend_to = "";
  }
  size_t text = prepend_to ? sizeof kPreload + strlen(g_libckpt_path) + 1 + strlen(prepend_to) + 1 : 0;

  if (!map_block(slots, text)) return nullptr;
  auto** out = static_cast<const char**>(block_);
  char* strings = static_cast<char*>(block_) + slots * sizeof(char*);
  size_t n = 0;
  auto present = [&](const char* like) {
    for (size_t i = 0; i < n; ++i)
      if (same_name(out[i], like)) return true;
    return false;
  };
  auto overridden = [&](const char* entry) {
    for (int i = 0; i < extra_count; ++i)
      if (same_name(extra[i], entry)) return true;
    return false;
  };

  for (int i = 0; i < extra_count; ++i) out[n++] = extra[i];
  for (char* const* e = envp; e && *e; ++e) {
    if (is_handover(*e) || overridden(*e) || has_name(*e, kPreload)) continue;
    out[n++] = *e;
  }
  if (prepend_to) {
    size_t len = format_to(strings, text, "%s=%s", kPreload, g_libckpt_path);
    if (*prepend_to) format_to(strings + len, text - len, ":%s", prepend_to);
    out[n++] = strings;
  } else {
    out[n++] = preload_entry;
  }
  // Every CKPT_* the computation runs with that the caller left out: the
  // current value if environ still has one, else the start-up one.
  for (char** e = environ; e && *e; ++e)
    if (is_ours(*e) && !has_name(*e, kPreload) && !present(*e)) out[n++] = *e;
  for (int i = 0; i < g_snapshot_count; ++i)
    if (!has_name(g_snapshot[i], kPreload) && !present(g_snapshot[i])) out[n++] = g_snapshot[i];
  out[n] = nullptr;
  return const_cast<char* const*>(out);
}

char* const* ExecEnv::build_outside(char* const* envp) {
  size_t given = 0, text = 0;
  for (char* const* e = envp; e && *e; ++e) {
    ++given;
    if (has_name(*e, kPreload)) text += strlen(*e) + 1;
  }
  if (!map_block(given + 1, text)) return nullptr;
  auto** out = static_cast<const char**>(block_);
  char* strings = static_cast<char*>(block_) + (given + 1) * sizeof(char*);
  size_t n = 0;
  for (char* const* e = envp; e && *e; ++e) {
    if (strncmp(*e, kPrefix, sizeof kPrefix - 1) == 0 && !has_name(*e, CKPT_ENV_LOG) && !has_name(*e, CKPT_ENV_LOG_DIR))
      continue;
    if (!has_name(*e, kPreload)) {
      out[n++] = *e;
      continue;
    }
    // LD_PRELOAD without its libckpt entries; gone if nothing else is left.
    char* kept = strings;
    char* end = kept + format_to(kept, text, "%s=", kPreload);
    const size_t empty_len = static_cast<size_t>(end - kept);
    for (const char* p = strchr(*e, '=') + 1; *p;) {
      size_t len = strcspn(p, ": ");
      char entry[4096];
      const size_t head = format_to(entry, sizeof entry, "%s=", kPreload);
      const size_t copy = len < sizeof entry - head - 1 ? len : sizeof entry - head - 1;
      memcpy(entry + head, p, copy);
      entry[head + copy] = '\0';
      if (len && !preloads_libckpt(entry)) {
        if (static_cast<size_t>(end - kept) > empty_len) *end++ = ':';
        memcpy(end, p, len);
        end += len;
      }
      p += len;
      while (*p == ':' || *p == ' ') ++p;
    }
    *end++ = '\0';
    strings = end;
    if (static_cast<size_t>(end - kept) - 1 > empty_len) out[n++] = kept;
  }
  out[n] = nullptr;
  return const_cast<char* const*>(out);
}

}  // namespace ckpt
