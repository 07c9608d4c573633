// Paths of inotify watches. The kernel tells a watch's inode (fdinfo), not
// the path it was added by, so the inotify_add_watch wrapper remembers, for
// every inode watched, an absolute path to it (resolved when the watch was
// added: symbolic links and a relative path's directory taken into
// account). The table is keyed by inode rather than by instance and watch
// descriptor: any path that names the inode restores the watch, the entry
// survives dup, fork and inotify_rm_watch without bookkeeping, and the
// checkpoint checks that the path still names the inode.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::event {

enum class WatchPath {
  Found,    // `out` names the inode now
  Stale,    // `out` named it when it was watched, but no longer does (renamed or removed)
  Unknown,  // never seen: watched before libckpt was loaded (across exec) or by a raw system call
};

// At DRAIN (threads frozen, no locks taken): a path to inode (dev, ino).
WatchPath watched_path(uint64_t dev, uint64_t ino, char* out, size_t cap);

}  // namespace ckpt::event
