// One logging facility for libckpt: async-signal-safe (a stack buffer, a tiny
// formatter, one write(2) per line), to a per-process log file. The level
// comes from CKPT_LOG=error|warn|info|debug (default: warn).
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace ckpt {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 };

// Opens (or reopens, after fork or restart) the log file for this process.
void log_open(const char* progname);
// After a restart: the old log descriptor number may belong to the
// application now; drop it without closing.
void log_forget_file();
bool log_enabled(LogLevel level);
// printf-like, supporting %s %c %d %i %u %ld %lu %lld %llu %x %lx %llx %p %zu %%.
void log_write(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// Logs, prints a libunwind backtrace to the log and stderr, and aborts.
[[noreturn]] void log_fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// The formatter itself, exposed for building messages without allocating.
// Always NUL-terminates; returns the length written.
size_t format_to(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
size_t vformat_to(char* buf, size_t cap, const char* fmt, va_list ap);

}  // namespace ckpt

#define CKPT_LOG(level, ...)                                                      \
  do {                                                                            \
    if (::ckpt::log_enabled(::ckpt::LogLevel::level)) ::ckpt::log_write(::ckpt::LogLevel::level, __VA_ARGS__); \
  } while (0)
