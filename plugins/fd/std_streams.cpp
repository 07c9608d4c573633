#include "std_streams.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"
#include "ckpt/frozen_io.h"

extern char** environ;

namespace ckpt::fd {
namespace {

struct Identity {
  uint64_t dev;
  uint64_t ino;
};

Identity g_streams[3];
int g_bound_fd[3] = {-1, -1, -1};

constexpr size_t kEntryLen = 33;                     // 16 hex ':' 16 hex
constexpr size_t kValueLen = 3 * kEntryLen + 2;  // entries joined by ','

Identity identity_of(int fd) {
  struct stat st;
  if (raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) < 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

ShortText encode() {
  ShortText t;
  for (int k = 0; k < 3; ++k) {
    if (k) t.add(",");
    t.hex(g_streams[k].dev, 16).add(":").hex(g_streams[k].ino, 16);
  }
  return t;
}

bool parse_hex16(const char* s, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < 16; ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

bool decode(const char* value) {
  if (strlen(value) != kValueLen) return false;
  Identity parsed[3];
  for (int k = 0; k < 3; ++k) {
    const char* e = value + k * (kEntryLen + 1);
    if (e[16] != ':' || (k < 2 && e[kEntryLen] != ',')) return false;
    if (!parse_hex16(e, &parsed[k].dev) || !parse_hex16(e + 17, &parsed[k].ino)) return false;
  }
  memcpy(g_streams, parsed, sizeof parsed);
  return true;
}

// The value of CKPT_STDIO inside environ, found without getenv's help so
// that it can be rewritten in place while other threads are frozen.
char* env_value() {
  size_t name_len = strlen(kStdioEnv);
  for (char** e = environ; e && *e; ++e)
    if (strncmp(*e, kStdioEnv, name_len) == 0 && (*e)[name_len] == '=') return *e + name_len + 1;
  return nullptr;
}

}  // namespace

void stdio_init() {
  const char* value = getenv(kStdioEnv);
  if (value && decode(value)) return;
  // A malformed value counts as absent: this process starts a new record.
  for (int k = 0; k < 3; ++k) g_streams[k] = identity_of(k);
  setenv(kStdioEnv, encode().c_str(), 1);
}

int stdio_match(uint64_t dev, uint64_t ino, int fd) {
  auto same = [&](int k) { return (g_streams[k].dev || g_streams[k].ino) && g_streams[k].dev == dev && g_streams[k].ino == ino; };
  if (fd >= 0 && fd <= 2 && same(fd)) return fd;
  for (int k = 0; k < 3; ++k)
    if (same(k)) return k;
  return -1;
}

void stdio_clear_bindings() {
  for (int& fd : g_bound_fd) fd = -1;
}

void stdio_bind(int index, int fd) {
  if (index >= 0 && index <= 2 && g_bound_fd[index] < 0) g_bound_fd[index] = fd;
}

void stdio_after_restart() {
  bool changed = false;
  for (int k = 0; k < 3; ++k) {
    if (g_bound_fd[k] < 0) continue;
    Identity now = identity_of(g_bound_fd[k]);
    if (now.dev || now.ino) {
      g_streams[k] = now;
      changed = true;
    }
  }
  char* value = env_value();
  if (changed && value && strlen(value) == kValueLen) memcpy(value, encode().c_str(), kValueLen);
}

}  // namespace ckpt::fd
