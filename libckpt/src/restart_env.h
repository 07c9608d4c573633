// Changes to a restored process's environment (ckpt_restart --env-file,
// --modify-env; ckpt_launch --modify-env), made while its threads are still
// frozen, before the application runs again: so no malloc and no locks (a
// frozen thread may hold them). Everything lives in memory of its own
// (mmap), which is never given back: environ points into it from then on.
//
// The file, one change a line (DMTCP's dmtcp_env.txt):
//   NAME=value      sets NAME; value ends at a blank or '#' outside quotes
//   NAME=           sets NAME to the empty string
//   NAME            removes NAME
//   # comment       blank lines and comments are skipped
// In a value, "..." keeps blanks and '#', \c stands for c, and $OTHER is
// OTHER's value in the environment as changed by the lines above (empty if
// unset). A line that is not one of these is skipped with a warning.
#pragma once

#include <stddef.h>

namespace ckpt {

// The environment being edited: a vector of "NAME=value" strings.
class EnvEditor {
 public:
  // Starts from `env` (null-terminated; its strings are kept, not copied).
  // False if memory for `max_entries` more entries and `text_cap` bytes of
  // new text could not be mapped.
  bool begin(char* const* env, size_t max_entries, size_t text_cap);
  // Sets (value non-null) or removes (value null) NAME. False if out of room.
  bool set(const char* name, size_t name_len, const char* value, size_t value_len);
  // NAME's value, or null.
  const char* get(const char* name, size_t name_len) const;
  // Applies every line of `text` (the file's contents). Each line skipped is
  // reported through warn(line_number, why). Returns the number of changes.
  int apply_file(const char* text, size_t len, void (*warn)(int line, const char* why, void* arg), void* arg);
  // The edited vector (null-terminated), to become environ.
  char** result() const { return entries_; }

 private:
  char* add_text(const char* s, size_t n);
  char** entries_ = nullptr;
  size_t count_ = 0, cap_ = 0;
  char* text_ = nullptr;
  size_t text_used_ = 0, text_cap_ = 0;
};

// Reads `path` (null or "": none; at most 64 KiB) and applies it to
// environ, then the `extra` NAME=value settings (null-terminated list, may
// be null). Lines skipped go to warn(). Returns the number of changes, or -1
// with `why` set (the file cannot be read; environ is unchanged).
int edit_environment(const char* path, const char* const* extra, void (*warn)(int line, const char* why, void* arg),
                     void* arg, char* why, size_t why_cap);

}  // namespace ckpt
