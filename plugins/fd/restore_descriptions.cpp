#include "restore_descriptions.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ckpt/restart.h"

namespace ckpt {
namespace {

using image::FdKind;
using image::FdRecord;
using image::FilePolicy;
using image::ImageReader;

// open() must find the file, never make or empty it.
constexpr int kNeverOnReopen = O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_TMPFILE;
// What F_SETFL can change on a description.
constexpr int kChangeableStatus = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

std::string errno_text() { return std::strerror(errno); }

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

const image::Section* find_section(const std::vector<const ImageReader*>& images, const std::string& name) {
  for (const ImageReader* img : images)
    for (const image::Section& s : img->sections())
      if (s.name == name) return &s;
  return nullptr;
}

std::string hex_name(const char* prefix, uint64_t v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%016lx", prefix, static_cast<unsigned long>(v));
  return buf;
}

bool write_all(int fd, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += n;
  }
  return true;
}

// Creates the descriptions of one computation (DescriptionSet::create).
class Creator {
 public:
  Creator(const std::vector<const ImageReader*>& images, const std::vector<int32_t>& vpids,
          const PathRewriter& paths, int floor, const std::vector<int>& inherited, std::map<uint64_t, int>& by_desc,
          std::vector<int>& all)
      : images_(images), vpids_(vpids), paths_(paths), floor_(floor), inherited_(inherited), by_desc_(by_desc),
        all_(all) {}

  ~Creator() {
    for (auto& [path, fd] : fifo_helpers_) close(fd);
  }

  // Every description except Replace ones (they change files: last, once
  // everything else is known to work).
  void first_pass(size_t process, const FdRecord& rec) {
    switch (rec.kind) {
      case FdKind::File:
      case FdKind::Directory:
      case FdKind::Device:
        if (rec.kind == FdKind::File && rec.policy == FilePolicy::Replace) {
          replaced_.emplace_back(process, &rec);
          check_replaceable(process, rec);
        } else if (rec.kind == FdKind::File && rec.policy == FilePolicy::Substitute) {
          keep(rec, private_copy(process, rec));
        } else {
          keep(rec, reopen(process, rec, paths_.apply(rec.path)));
        }
        break;
      case FdKind::Deleted: keep(rec, private_copy(process, rec)); break;
      case FdKind::Pipe: keep(rec, pipe_end(process, rec)); break;
      case FdKind::Fifo: keep(rec, fifo_end(process, rec)); break;
      case FdKind::Lost: keep(rec, placeholder(process, rec)); break;
      case FdKind::Inherited: keep(rec, inherited(process, rec)); break;
      case FdKind::Tty:
      case FdKind::Stdio:
      case FdKind::Elsewhere: break;
      default: fail(process, rec, rec.path, "unknown descriptor kind " + std::to_string(static_cast<uint32_t>(rec.kind)));
    }
  }

  void replace_pass() {
    for (auto [process, rec] : replaced_) {
      if (by_desc_.count(rec->desc_id)) continue;
      std::string path = paths_.apply(rec->path);
      const std::vector<uint8_t>& bytes = contents(process, *rec);
      // A replaced file that is gone is made again: its saved contents are all of it.
      int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, rec->mode & 07777);
      if (fd < 0) fail(process, *rec, path, errno_text());
      bool ok = write_all(fd, bytes);
      int err = errno;
      close(fd);
      if (!ok) fail(process, *rec, path, std::string("cannot write the saved contents back: ") + std::strerror(err));
      keep(*rec, reopen(process, *rec, path));
    }
  }

 private:
  [[noreturn]] void fail(size_t process, const FdRecord&, const std::string& path, const std::string& reason) const {
    const image::ProcessRecord& p = images_[process]->process();
    throw RestartError("cannot reopen " + path + " for process " + std::to_string(vpids_[process]) + " (" +
                       p.progname + "): " + reason);
  }

  void keep(const FdRecord& rec, int fd) { by_desc_[rec.desc_id] = fd; }

  int lifted(size_t process, const FdRecord& rec, const std::string& path, int fd) {
    if (fd < 0) fail(process, rec, path, errno_text());
    int high = fcntl(fd, F_DUPFD_CLOEXEC, floor_);
    int err = errno;
    close(fd);
    if (high < 0) fail(process, rec, path, std::string("no descriptor number free above ") + std::to_string(floor_) +
                                               ": " + std::strerror(err));
    all_.push_back(high);
    return high;
  }

  int open_flags(const FdRecord& rec) const {
    int flags = static_cast<int>(rec.status_flags) & ~kNeverOnReopen;
    if (rec.kind == FdKind::Directory) flags |= O_DIRECTORY;
    return flags | O_CLOEXEC;
  }

  void seek(size_t process, const FdRecord& rec, const std::string& path, int fd) const {
    off_t rc = 0;
    switch (rec.policy) {
      case FilePolicy::Ignore: rc = lseek(fd, 0, SEEK_SET); break;
      case FilePolicy::Append: rc = lseek(fd, 0, SEEK_END); break;
      default:
        if (rec.offset > 0) rc = lseek(fd, rec.offset, SEEK_SET);
    }
    // A directory's position is a file-system cookie some cannot seek to;
    // its listing simply starts over.
    if (rc < 0 && rec.kind == FdKind::File) fail(process, rec, path, "cannot seek: " + errno_text());
  }

  int reopen(size_t process, const FdRecord& rec, const std::string& path) {
    int raw = open(path.c_str(), open_flags(rec));
    if (raw < 0 && errno == ENOENT && recreatable(rec)) raw = recreate(process, rec, path);
    int fd = lifted(process, rec, path, raw);
    if (rec.kind != FdKind::Device) seek(process, rec, path, fd);
    return fd;
  }

  // An output file (open for writing, merge or append policy) that is gone
  // at restart, as DMTCP does: the program goes on writing, so the file is
  // made again where it was, with its mode, and writes continue at the saved
  // offset (bytes before it read as zeros). A missing input file still fails
  // the restart: the program would read nothing where it read data.
  static bool recreatable(const FdRecord& rec) {
    return rec.kind == FdKind::File && (rec.status_flags & O_ACCMODE) != O_RDONLY &&
           (rec.policy == FilePolicy::Merge || rec.policy == FilePolicy::Append);
  }

  int recreate(size_t process, const FdRecord& rec, const std::string& path) {
    const mode_t mode = rec.mode & 07777;
    int fd = open(path.c_str(), open_flags(rec) | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
      errno = ENOENT;  // report the file as missing, not why it could not be made
      return -1;
    }
    fchmod(fd, mode);  // the umask may have taken bits off
    const image::ProcessRecord& p = images_[process]->process();
    std::fprintf(stderr,
                 "ckpt_restart: warning: process %d (%s): %s (fd %d) was missing: made again with mode %04o, "
                 "writes go on at offset %lld\n",
                 vpids_[process], p.progname, path.c_str(), rec.fd, static_cast<unsigned>(mode),
                 static_cast<long long>(rec.offset > 0 ? rec.offset : 0));
    return fd;
  }

  void check_replaceable(size_t process, const FdRecord& rec) {
    std::string path = paths_.apply(rec.path);
    contents(process, rec);
    if (access(path.c_str(), W_OK) != 0 && errno != ENOENT) fail(process, rec, path, errno_text());
  }

  const std::vector<uint8_t>& contents(size_t process, const FdRecord& rec) const {
    std::string name = hex_name(image::kFileContentsPrefix, rec.desc_id);
    const image::Section* s = rec.has_contents ? find_section(images_, name) : nullptr;
    if (!s) fail(process, rec, rec.path, "the images hold no saved copy (section " + name + ")");
    return s->data;
  }

  // An unlinked file holding the saved contents, next to where the file was
  // if that directory still exists and takes it, else in $TMPDIR or /tmp.
  int private_copy(size_t process, const FdRecord& rec) {
    std::string path = paths_.apply(rec.path);
    const std::vector<uint8_t>& bytes = contents(process, rec);
    std::vector<std::string> dirs = {dirname_of(path)};
    if (const char* t = getenv("TMPDIR"); t && *t) dirs.push_back(t);
    dirs.push_back("/tmp");
    int rw = -1;
    for (const std::string& dir : dirs)
      if ((rw = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0) break;
    if (rw < 0) fail(process, rec, path, "cannot create a private copy: " + errno_text());
    if (!write_all(rw, bytes)) {
      int err = errno;
      close(rw);
      fail(process, rec, path, std::string("cannot write the private copy: ") + std::strerror(err));
    }
    // A new description with the saved access mode and flags, on that file.
    std::string self = "/proc/self/fd/" + std::to_string(rw);
    int fd = open(self.c_str(), open_flags(rec));
    close(rw);
    fd = lifted(process, rec, path, fd);
    seek(process, rec, path, fd);
    return fd;
  }

  // A pipe to outside the computation above fd 2: ckpt_restart's own
  // descriptor of that number, if it inherited one (the same batch system or
  // jobserver gives it again), else a placeholder.
  int inherited(size_t process, const FdRecord& rec) {
    if (std::find(inherited_.begin(), inherited_.end(), rec.fd) != inherited_.end())
      return lifted(process, rec, rec.path, fcntl(rec.fd, F_DUPFD_CLOEXEC, 0));
    const image::ProcessRecord& p = images_[process]->process();
    std::fprintf(stderr,
                 "ckpt_restart: warning: process %d (%s): fd %d was a pipe to outside the computation and "
                 "ckpt_restart has no fd %d: it is a placeholder (reads see end-of-file, writes fail with EPIPE)\n",
                 vpids_[process], p.progname, rec.fd, rec.fd);
    return placeholder(process, rec);
  }

  // What stands for a descriptor nobody could save (the user accepted the
  // loss): a stream socket whose peer is gone, so reads see end-of-file and
  // writes fail with EPIPE, as for a connection the other side closed.
  int placeholder(size_t process, const FdRecord& rec) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
      fail(process, rec, rec.path, "cannot create a placeholder: " + errno_text());
    close(pair[1]);
    int fd = lifted(process, rec, rec.path, pair[0]);
    fcntl(fd, F_SETFL, rec.status_flags & O_NONBLOCK);
    return fd;
  }

  // Bytes drained from a pipe or FIFO at checkpoint, by whichever image has them.
  const image::Section* drained(uint64_t ino) const {
    return find_section(images_, image::kPipeBytesPrefix + std::to_string(ino));
  }

  void refill(size_t process, const FdRecord& rec, int write_fd, uint64_t ino) {
    if (rec.pipe_size) fcntl(write_fd, F_SETPIPE_SZ, rec.pipe_size);
    const image::Section* bytes = drained(ino);
    if (!bytes || bytes->data.empty()) return;
    int capacity = fcntl(write_fd, F_GETPIPE_SZ);
    if (capacity >= 0 && static_cast<size_t>(capacity) < bytes->data.size())
      fcntl(write_fd, F_SETPIPE_SZ, static_cast<int>(bytes->data.size()));
    int flags = fcntl(write_fd, F_GETFL);
    fcntl(write_fd, F_SETFL, flags | O_NONBLOCK);  // a full pipe must fail, not hang
    bool ok = write_all(write_fd, bytes->data);
    int err = errno;
    fcntl(write_fd, F_SETFL, flags);
    if (!ok) fail(process, rec, rec.path, "cannot put back " + std::to_string(bytes->data.size()) +
                                              " bytes that were in the pipe: " + std::strerror(err));
  }

  int pipe_end(size_t process, const FdRecord& rec) {
    auto it = pipes_.find(rec.ino);
    if (it == pipes_.end()) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) fail(process, rec, rec.path, "cannot create a pipe: " + errno_text());
      int r = lifted(process, rec, rec.path, p[0]);
      int w = lifted(process, rec, rec.path, p[1]);
      refill(process, rec, w, rec.ino);
      it = pipes_.emplace(rec.ino, std::pair<int, int>(r, w)).first;
    }
    int fd = (rec.status_flags & O_ACCMODE) == O_RDONLY ? it->second.first : it->second.second;
    fcntl(fd, F_SETFL, rec.status_flags & kChangeableStatus);
    return fd;
  }

  int fifo_end(size_t process, const FdRecord& rec) {
    std::string path = paths_.apply(rec.path);
    if (!fifo_helpers_.count(path)) {
      // Holding both ends open ourselves, opening either end cannot block.
      int helper = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
      if (helper < 0) fail(process, rec, path, errno_text());
      fifo_helpers_[path] = helper;
      refill(process, rec, helper, rec.ino);
    }
    return lifted(process, rec, path, open(path.c_str(), open_flags(rec)));
  }

  const std::vector<const ImageReader*>& images_;
  const std::vector<int32_t>& vpids_;
  const PathRewriter& paths_;
  int floor_;
  const std::vector<int>& inherited_;
  std::map<uint64_t, int>& by_desc_;
  std::vector<int>& all_;
  std::map<uint64_t, std::pair<int, int>> pipes_;  // ino -> read end, write end
  std::map<std::string, int> fifo_helpers_;
  std::vector<std::pair<size_t, const FdRecord*>> replaced_;
};

}  // namespace

ProcessFds read_process_fds(const ImageReader& img) {
  ProcessFds out;
  out.cwd = img.process().cwd;
  const image::Section* section = nullptr;
  for (const image::Section& s : img.sections())
    if (s.name == image::kFdSection) section = &s;
  // libckpt fails a checkpoint whose descriptors it could not save: an image
  // without them is not one to restart from.
  if (!section) throw RestartError("image " + img.path() + ": has no section fds (its descriptors were not saved)");
  const std::vector<uint8_t>& d = section->data;
  auto bad = [&](const std::string& why) { throw RestartError("image " + img.path() + ": section fds " + why); };
  if (d.size() < sizeof(image::FdSectionHeader)) bad("is too short");
  std::memcpy(&out.header, d.data(), sizeof out.header);
  if (out.header.version != image::kFdSectionVersion)
    bad("has version " + std::to_string(out.header.version) + ", this ckpt_restart reads version " +
        std::to_string(image::kFdSectionVersion));
  if (d.size() != sizeof(image::FdSectionHeader) + uint64_t{out.header.count} * sizeof(FdRecord))
    bad("size does not match its " + std::to_string(out.header.count) + " records");
  out.records.resize(out.header.count);
  if (out.header.count)
    std::memcpy(out.records.data(), d.data() + sizeof(image::FdSectionHeader), out.header.count * sizeof(FdRecord));
  for (FdRecord& r : out.records) {
    r.path[sizeof r.path - 1] = '\0';
    if (r.fd < 0) bad("has a negative descriptor number");
  }
  out.header.cwd[sizeof out.header.cwd - 1] = '\0';
  if (out.header.cwd[0]) out.cwd = out.header.cwd;
  return out;
}

int highest_saved_fd(const std::vector<ProcessFds>& processes) {
  int high = 2;
  for (const ProcessFds& p : processes)
    for (const image::FdRecord& r : p.records) high = std::max(high, r.fd);
  return high;
}

void DescriptionSet::create(const std::vector<const ImageReader*>& images, const std::vector<ProcessFds>& processes,
                            const std::vector<int32_t>& vpids, const PathRewriter& paths, int floor,
                            const std::vector<int>& inherited) {
  for (int i = 0; i < 3; ++i)
    if ((stdio_[i] = fcntl(i, F_DUPFD_CLOEXEC, floor)) >= 0) all_.push_back(stdio_[i]);
  bool any_tty = false;
  for (const ProcessFds& p : processes)
    for (const FdRecord& r : p.records) any_tty |= r.kind == FdKind::Tty;
  if (any_tty) {
    for (int i = 0; i < 3 && terminal_ < 0; ++i)
      if (isatty(i)) terminal_ = stdio_[i];
    if (terminal_ < 0) {
      int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (fd >= 0) {
        terminal_ = fcntl(fd, F_DUPFD_CLOEXEC, floor);
        close(fd);
        all_.push_back(terminal_);
      }
    }
  }
  Creator creator(images, vpids, paths, floor, inherited, by_desc_, all_);
  for (size_t p = 0; p < processes.size(); ++p)
    for (const FdRecord& rec : processes[p].records) {
      // Without a terminal (a batch job, say), a terminal that was a
      // standard stream becomes ckpt_restart's stream of that number.
      if (rec.kind == FdKind::Tty && terminal_ < 0 && rec.fd > 2)
        throw RestartError("cannot reopen terminal " + std::string(rec.path) + " for process " +
                           std::to_string(vpids[p]) + " (" + images[p]->process().progname +
                           "): ckpt_restart has no terminal");
      if (by_desc_.count(rec.desc_id) || rec.kind == FdKind::Stdio || rec.kind == FdKind::Tty) continue;
      creator.first_pass(p, rec);
    }
  creator.replace_pass();
  // ckpt_restart's streams keep their own flags (a `>>` redirection's
  // O_APPEND above all), except that a program that made its stream
  // non-blocking must not block now.
  for (const ProcessFds& p : processes)
    for (const FdRecord& rec : p.records)
      if ((rec.kind == FdKind::Stdio || rec.kind == FdKind::Tty) && (rec.status_flags & O_NONBLOCK)) {
        int fd = transport_fd(rec);
        if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      }
}

int DescriptionSet::transport_fd(const FdRecord& rec) const {
  switch (rec.kind) {
    case FdKind::Stdio: return rec.stdio_index < 3 ? stdio_[rec.stdio_index] : -1;
    case FdKind::Tty: return terminal_ >= 0 || rec.fd > 2 ? terminal_ : stdio_[rec.fd];
    case FdKind::Elsewhere: return -1;
    default: {
      auto it = by_desc_.find(rec.desc_id);
      return it == by_desc_.end() ? -1 : it->second;
    }
  }
}

void DescriptionSet::install(const ProcessFds& fds, const PathRewriter& paths, const std::vector<int32_t>& keep) const {
  std::vector<int32_t> open_now = keep;
  for (const FdRecord& rec : fds.records) {
    int src = transport_fd(rec);
    if (src < 0) {
      // Another kind's descriptor: a kind of a lower rank put it in place
      // already (sockets, event descriptors), or the process reopens it
      // itself after the restart (/proc files).
      if (rec.kind == FdKind::Elsewhere && fcntl(rec.fd, F_GETFD) >= 0) open_now.push_back(rec.fd);
      continue;
    }
    if (dup2(src, rec.fd) < 0)
      throw RestartError("cannot put descriptor " + std::to_string(rec.fd) + " in place: " + errno_text());
    fcntl(rec.fd, F_SETFD, rec.fd_flags & FD_CLOEXEC);
    open_now.push_back(rec.fd);
  }
  // Everything else goes: ckpt_restart's own descriptors and every other
  // process's descriptions.
  std::sort(open_now.begin(), open_now.end());
  unsigned low = 0;
  for (int32_t fd : open_now) {
    if (static_cast<unsigned>(fd) > low) syscall(SYS_close_range, low, fd - 1, 0);
    low = std::max(low, static_cast<unsigned>(fd) + 1);
  }
  syscall(SYS_close_range, low, ~0u, 0);

  std::string cwd = paths.apply(fds.cwd);
  if (!cwd.empty() && chdir(cwd.c_str()) != 0)
    throw RestartError("cannot enter working directory " + cwd + ": " + errno_text());
  umask(fds.header.umask);
  // As far as this user may: an unprivileged process cannot raise a hard
  // limit, and neither could the original.
  for (int r = 0; r < static_cast<int>(image::kRlimitCount) && r < RLIM_NLIMITS; ++r) {
    rlimit saved{fds.header.rlimits[r].cur, fds.header.rlimits[r].max};
    if (setrlimit(r, &saved) == 0) continue;
    rlimit now{};
    if (getrlimit(r, &now) != 0) continue;
    saved.rlim_max = std::min(saved.rlim_max, now.rlim_max);
    saved.rlim_cur = std::min(saved.rlim_cur, saved.rlim_max);
    setrlimit(r, &saved);
  }
}

void DescriptionSet::close_all() {
  for (int fd : all_) close(fd);
  all_.clear();
}

}  // namespace ckpt
