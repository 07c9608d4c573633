#include "atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace ckpt::coord {

namespace {

std::string errno_reason(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

}  // namespace

std::string write_file_atomically(const std::string& path, std::string_view content, mode_t mode) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  std::string tmp = path;
  tmp += ".XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return errno_reason("create", tmp);

  auto fail = [&](std::string_view what, const std::string& name) {
    std::string reason = errno_reason(what, name);
    ::close(fd);
    ::unlink(tmp.c_str());
    return reason;
  };
  // mkstemp creates 0600; the final mode must not depend on the umask.
  if (::fchmod(fd, mode) != 0) return fail("chmod", tmp);
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write", tmp);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync", tmp);
  if (::close(fd) != 0) {
    std::string reason = errno_reason("close", tmp);
    ::unlink(tmp.c_str());
    return reason;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string reason = errno_reason("rename to", path);
    ::unlink(tmp.c_str());
    return reason;
  }
  // Make the rename itself durable.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno_reason("open directory", dir);
  if (::fsync(dfd) != 0) {
    std::string reason = errno_reason("fsync directory", dir);
    ::close(dfd);
    return reason;
  }
  ::close(dfd);
  return {};
}

}  // namespace ckpt::coord
