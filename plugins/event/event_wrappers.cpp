// Wrappers of the event kind.
//
// inotify_add_watch: remembers a path to each watched inode (inotify_paths.h).
// The update is a section no checkpoint cuts through, so the table is whole
// whenever the checkpoint reads it.
//
// signalfd: a signalfd whose mask holds libckpt's suspend signal would take
// that signal out of the queue of a thread reading it, which then never
// stops for a checkpoint; the suspend signal is left out of the mask, as
// sigprocmask's wrapper leaves it out of a blocked set.
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "inotify_paths.h"

namespace ckpt::event {
namespace {

// One entry: this header, then the path and its NUL, padded to 8 bytes.
struct PathEntry {
  uint64_t dev;
  uint64_t ino;
  uint32_t size;  // of the whole entry
  uint32_t path_len;
};

MappedBuffer g_paths;  // inherited across fork, restored with the memory
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

const char* path_of(const PathEntry* e) { return reinterpret_cast<const char*>(e + 1); }

template <typename Fn>
void for_each_entry(Fn&& fn) {
  for (size_t at = 0; at + sizeof(PathEntry) <= g_paths.size();) {
    const PathEntry* e = g_paths.at<PathEntry>(at);
    if (e->size < sizeof(PathEntry) || !fn(e)) return;
    at += e->size;
  }
}

bool same_file(const char* path, uint64_t dev, uint64_t ino) {
  struct stat st;
  return raw_syscall(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>(path), reinterpret_cast<long>(&st),
                     AT_SYMLINK_NOFOLLOW) == 0 &&
         st.st_dev == dev && st.st_ino == ino;
}

// After a successful inotify_add_watch(path, mask): the inode it watches and
// its absolute path, as the kernel resolved them.
void remember(const char* path, uint32_t mask) {
  int flags = O_PATH | O_CLOEXEC | ((mask & IN_DONT_FOLLOW) ? O_NOFOLLOW : 0) | ((mask & IN_ONLYDIR) ? O_DIRECTORY : 0);
  long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), flags);
  if (fd < 0) return;
  struct stat st;
  char resolved[4096];
  bool ok = raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) == 0 &&
            read_link(proc_path(0, "fd", static_cast<int>(fd)).c_str(), resolved, sizeof resolved) > 0 &&
            resolved[0] == '/';
  raw_syscall(SYS_close, fd);
  if (!ok) return;
  bool known = false;
  for_each_entry([&](const PathEntry* e) {
    known = e->dev == st.st_dev && e->ino == st.st_ino && strcmp(path_of(e), resolved) == 0;
    return !known;
  });
  if (known) return;
  const uint32_t len = static_cast<uint32_t>(strlen(resolved));
  const uint32_t size = static_cast<uint32_t>((sizeof(PathEntry) + len + 1 + 7) & ~size_t{7});
  size_t at = g_paths.append(nullptr, size);
  if (at == MappedBuffer::kFailed) return;  // the checkpoint then says the path is unknown
  PathEntry* e = g_paths.at<PathEntry>(at);
  *e = PathEntry{st.st_dev, st.st_ino, size, len};
  memcpy(e + 1, resolved, len + 1);
}

}  // namespace

WatchPath watched_path(uint64_t dev, uint64_t ino, char* out, size_t cap) {
  WatchPath result = WatchPath::Unknown;
  for_each_entry([&](const PathEntry* e) {
    if (e->dev != dev || e->ino != ino || e->path_len >= cap) return true;
    memcpy(out, path_of(e), e->path_len + 1);
    result = same_file(out, dev, ino) ? WatchPath::Found : WatchPath::Stale;
    return result != WatchPath::Found;
  });
  return result;
}

}  // namespace ckpt::event

extern "C" {

int inotify_add_watch(int fd, const char* path, uint32_t mask) {
  // Under the path map (plugins/path) the kernel watches, and the image
  // records, the real path; a restart under a new map relocates it.
  char mapped[PATH_MAX];
  path = ckpt_path_to_real(path, mapped, sizeof mapped);
  if (!ckpt_is_enabled()) return static_cast<int>(ckpt::sys(SYS_inotify_add_watch, fd, path, mask));
  ckpt_delay_checkpoints();
  pthread_mutex_lock(&ckpt::event::g_lock);
  long wd = ckpt::sys(SYS_inotify_add_watch, fd, path, mask);
  int err = errno;
  if (wd >= 0) ckpt::event::remember(path, mask);
  pthread_mutex_unlock(&ckpt::event::g_lock);
  ckpt_allow_checkpoints();
  errno = err;
  return static_cast<int>(wd);
}

int signalfd(int fd, const sigset_t* mask, int flags) {
  sigset_t copy;
  return static_cast<int>(ckpt::sys(SYS_signalfd4, fd, ckpt_without_suspend_signal(mask, &copy), _NSIG / 8, flags));
}

}  // extern "C"
