#include "restart_env.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"

extern char** environ;

namespace ckpt {
namespace {

constexpr size_t kMaxFile = 64 * 1024;

void* map_bytes(size_t len) {
  void* p =
      reinterpret_cast<void*>(sys(SYS_mmap, nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  return reinterpret_cast<unsigned long>(p) > -4096UL ? nullptr : p;
}

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

void copy_text(char* out, size_t cap, const char* s) {
  size_t n = strlen(s);
  if (n >= cap) n = cap - 1;
  memcpy(out, s, n);
  out[n] = '\0';
}

// "what (errno N)": strerror may take the locale's lock.
void errno_text(char* out, size_t cap, const char* what, long err) {
  char digits[24];
  size_t d = sizeof digits;
  digits[--d] = '\0';
  do digits[--d] = static_cast<char>('0' + err % 10);
  while ((err /= 10) > 0 && d > 0);
  copy_text(out, cap, what);
  const size_t used = strlen(out);
  if (used + 8 + (sizeof digits - d) < cap) {
    memcpy(out + used, " (errno ", 8);
    memcpy(out + used + 8, digits + d, sizeof digits - 1 - d);
    out[used + 8 + sizeof digits - 1 - d] = ')';
    out[used + 8 + sizeof digits - d] = '\0';
  }
}

}  // namespace

bool EnvEditor::begin(char* const* env, size_t max_entries, size_t text_cap) {
  size_t n = 0;
  while (env && env[n]) ++n;
  cap_ = n + max_entries + 1;
  entries_ = static_cast<char**>(map_bytes(cap_ * sizeof(char*)));
  text_ = static_cast<char*>(map_bytes(text_cap));
  if (!entries_ || !text_) return false;
  text_cap_ = text_cap;
  for (count_ = 0; count_ < n; ++count_) entries_[count_] = env[count_];
  entries_[count_] = nullptr;
  return true;
}

char* EnvEditor::add_text(const char* s, size_t n) {
  if (n + 1 > text_cap_ - text_used_) return nullptr;
  char* out = text_ + text_used_;
  memcpy(out, s, n);
  out[n] = '\0';
  text_used_ += n + 1;
  return out;
}

const char* EnvEditor::get(const char* name, size_t name_len) const {
  for (size_t i = 0; i < count_; ++i)
    if (strncmp(entries_[i], name, name_len) == 0 && entries_[i][name_len] == '=') return entries_[i] + name_len + 1;
  return nullptr;
}

bool EnvEditor::set(const char* name, size_t name_len, const char* value, size_t value_len) {
  size_t i = 0;
  while (i < count_ && !(strncmp(entries_[i], name, name_len) == 0 && entries_[i][name_len] == '=')) ++i;
  if (!value) {
    if (i == count_) return true;
    memmove(entries_ + i, entries_ + i + 1, (count_ - i) * sizeof(char*));  // the terminator moves too
    --count_;
    return true;
  }
  if (i == count_ && count_ + 1 >= cap_) return false;
  if (name_len + value_len + 2 > text_cap_ - text_used_) return false;
  char* entry = text_ + text_used_;
  memcpy(entry, name, name_len);
  entry[name_len] = '=';
  memcpy(entry + name_len + 1, value, value_len);
  entry[name_len + 1 + value_len] = '\0';
  text_used_ += name_len + value_len + 2;
  entries_[i] = entry;
  if (i == count_) entries_[++count_] = nullptr;
  return true;
}

int EnvEditor::apply_file(const char* text, size_t len, void (*warn)(int line, const char* why, void* arg), void* arg) {
  // A value is built here before it is set (at most one line long).
  char* value = static_cast<char*>(map_bytes(len + 1 + kMaxFile));
  if (!value) {
    warn(0, "out of memory", arg);
    return 0;
  }
  const size_t value_cap = len + kMaxFile;
  int changes = 0, line_no = 0;
  size_t pos = 0;
  while (pos < len) {
    ++line_no;
    size_t end = pos;
    while (end < len && text[end] != '\n') ++end;
    const size_t next = end + 1;
    size_t i = pos;
    while (i < end && blank(text[i])) ++i;
    if (i == end || text[i] == '#') {
      pos = next;
      continue;
    }
    const size_t name_at = i;
    if (!name_start(text[i])) {
      warn(line_no, "does not begin with a variable name", arg);
      pos = next;
      continue;
    }
    while (i < end && name_char(text[i])) ++i;
    const size_t name_len = i - name_at;
    if (i == end || blank(text[i]) || text[i] == '#') {
      // NAME alone: remove it (anything after it must be a comment).
      size_t j = i;
      while (j < end && blank(text[j])) ++j;
      if (j < end && text[j] != '#') warn(line_no, "a name without '=' followed by more than a comment", arg);
      else if (set(text + name_at, name_len, nullptr, 0)) ++changes;
      pos = next;
      continue;
    }
    if (text[i] != '=') {
      warn(line_no, "the variable name is not followed by '='", arg);
      pos = next;
      continue;
    }
    ++i;
    size_t out = 0;
    bool in_quotes = false, ok = true;
    while (i < end && (in_quotes || (!blank(text[i]) && text[i] != '#'))) {
      const char c = text[i];
      if (c == '"') {
        in_quotes = !in_quotes;
        ++i;
      } else if (c == '\\' && i + 1 < end) {
        if (out < value_cap) value[out++] = text[i + 1];
        i += 2;
      } else if (c == '$' && i + 1 < end && name_start(text[i + 1])) {
        size_t ref = ++i;
        while (i < end && name_char(text[i])) ++i;
        const char* v = get(text + ref, i - ref);
        const size_t n = v ? strlen(v) : 0;
        if (out + n > value_cap) ok = false;
        else if (n) memcpy(value + out, v, n), out += n;
      } else {
        if (out < value_cap) value[out++] = c;
        ++i;
      }
    }
    if (in_quotes) ok = false;
    if (!ok) warn(line_no, in_quotes ? "a quote is not closed" : "the value is too long", arg);
    else if (!set(text + name_at, name_len, value, out)) warn(line_no, "no room for the change", arg);
    else ++changes;
    pos = next;
  }
  sys(SYS_munmap, value, len + 1 + kMaxFile);
  return changes;
}

int edit_environment(const char* path, const char* const* extra, void (*warn)(int line, const char* why, void* arg),
                     void* arg, char* why, size_t why_cap) {
  char* text = nullptr;
  size_t len = 0;
  if (path && path[0]) {
    const long fd = sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      errno_text(why, why_cap, "cannot open it", -fd);
      return -1;
    }
    text = static_cast<char*>(map_bytes(kMaxFile));
    long n = 0;
    while (text && len < kMaxFile && (n = sys(SYS_read, fd, text + len, kMaxFile - len)) > 0) len += n;
    sys(SYS_close, fd);
    if (!text || n < 0) {
      if (text) errno_text(why, why_cap, "cannot read it", -n);
      else copy_text(why, why_cap, "out of memory");
      return -1;
    }
    if (len == kMaxFile) {
      copy_text(why, why_cap, "larger than 64 KiB");
      return -1;
    }
  }
  size_t extras = 0, extra_text = 0;
  while (extra && extra[extras]) extra_text += strlen(extra[extras++]) + 1;
  EnvEditor editor;
  // Each line adds at most one entry, and a value at most the whole file
  // again through $ references: room for that, bounded.
  if (!editor.begin(environ, len / 2 + extras + 1, 2 * len + kMaxFile + extra_text)) {
    copy_text(why, why_cap, "out of memory");
    return -1;
  }
  int changes = text ? editor.apply_file(text, len, warn, arg) : 0;
  for (size_t k = 0; k < extras; ++k) {
    const char* eq = strchr(extra[k], '=');
    if (eq && editor.set(extra[k], static_cast<size_t>(eq - extra[k]), eq + 1, strlen(eq + 1))) ++changes;
  }
  if (text) sys(SYS_munmap, text, kMaxFile);
  environ = editor.result();
  return changes;
}

}  // namespace ckpt
