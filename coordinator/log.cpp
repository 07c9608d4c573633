#include "log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <utility>

#include "cli.h"

namespace ckpt::coord {
namespace {

// A checkpoint of a thousand processes logs about a thousand lines at once;
// a flood of bad peers gets 100 a second, some 10 KB/s.
constexpr double kLogBurst = 1000;
constexpr double kLogPerSecond = 100;

struct Rotation {
  std::string path;
  uint64_t max_bytes = 0;  // 0: stderr is not ours to rotate
};
Rotation g_rotation;

LogLevel log_threshold() {
  const char* v = std::getenv("CKPT_LOG");
  if (v == nullptr) return LogLevel::Info;
  const std::string s = v;
  if (s == "error") return LogLevel::Error;
  if (s == "warn") return LogLevel::Warn;
  if (s == "debug") return LogLevel::Debug;
  return LogLevel::Info;
}

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Error: return "ERROR";
    case LogLevel::Warn: return "WARN";
    case LogLevel::Info: return "INFO";
    case LogLevel::Debug: return "DEBUG";
  }
  return "";
}

// Before a line of `next` bytes: rotates the log if the line would take it
// past its bound.
void rotate_if_full(size_t next) {
  if (g_rotation.max_bytes == 0) return;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0 || static_cast<uint64_t>(st.st_size) + next <= g_rotation.max_bytes) return;
  std::string error;
  const int fd = ::rename(g_rotation.path.c_str(), (g_rotation.path + ".1").c_str()) == 0
                     ? cli::open_log(g_rotation.path, error)
                     : -1;
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  } else {
    // The log is opened with O_APPEND: the next line starts the emptied
    // file. Should even that fail, there is nothing more to try.
    [[maybe_unused]] const int rc = ::ftruncate(STDERR_FILENO, 0);
  }
}

void write_line(LogLevel level, const std::string& text) {
  const auto now = Clock::now();
  const std::time_t t = Clock::to_time_t(now);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char head[96];
  std::snprintf(head, sizeof head, "%s.%03d ckpt_coordinator[%d] %s: ", stamp, static_cast<int>(ms), ::getpid(),
                level_name(level));
  const std::string line = head + text + "\n";
  rotate_if_full(line.size());
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

bool LineBudget::take(Clock::time_point now) {
  if (last_ != Clock::time_point{})
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
  last_ = now;
  if (tokens_ < 1) {
    ++dropped_;
    return false;
  }
  tokens_ -= 1;
  return true;
}

uint64_t LineBudget::take_dropped() { return std::exchange(dropped_, 0); }

void write_log(LogLevel level, const std::string& text) {
  static const LogLevel threshold = log_threshold();
  static LineBudget budget(kLogBurst, kLogPerSecond);
  if (level > threshold || !budget.take(LineBudget::Clock::now())) return;
  if (const uint64_t dropped = budget.take_dropped())
    write_line(LogLevel::Warn, std::to_string(dropped) + " log line" + (dropped == 1 ? "" : "s") +
                                   " dropped (more than " + std::to_string(static_cast<int>(kLogPerSecond)) +
                                   " a second)");
  write_line(level, text);
}

void rotate_log_at(const std::string& path, uint64_t max_bytes) { g_rotation = {path, max_bytes}; }

}  // namespace ckpt::coord
