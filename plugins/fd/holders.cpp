#include "holders.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"
#include "ckpt/frozen_io.h"

namespace ckpt::fd {

uint32_t access_of(uint32_t status_flags) {
  switch (status_flags & O_ACCMODE) {
    case O_RDONLY:
      return kRead;
    case O_WRONLY:
      return kWrite;
    default:
      return kRead | kWrite;
  }
}

long HolderTable::add_process(const Peer& peer) {
  MappedArray<int> fds;
  long n = list_fds(peer.real, fds);
  long added = 0;
  for (long i = 0; i < n; ++i) {
    int fd = fds[i];
    struct stat st;
    ShortText link = proc_path(peer.real, "fd", fd);
    // Closed since the listing (a peer's own short-lived descriptor): skip.
    if (raw_syscall(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>(link.c_str()), reinterpret_cast<long>(&st), 0) < 0)
      continue;
    Holder h{peer.vpid, peer.real, fd, kRead | kWrite, st.st_dev, st.st_ino, st.st_mode, 0};
    if (S_ISFIFO(st.st_mode)) {
      char info[512];
      uint64_t flags;
      if (read_small_file(proc_path(peer.real, "fdinfo", fd).c_str(), info, sizeof info) > 0 &&
          find_number_field(info, "flags", 8, &flags))
        h.access = access_of(static_cast<uint32_t>(flags));
    }
    if (!add(h)) {
      added = -ENOMEM;
      break;
    }
    ++added;
  }
  fds.release();
  return n < 0 ? n : added;
}

uint64_t HolderTable::desc_id(const Holder& own) {
  uint64_t best = own.key();
  for (size_t i = 0; i < holders_.size(); ++i) {
    const Holder& h = holders_[i];
    if (h.key() >= best || h.dev != own.dev || h.ino != own.ino) continue;
    // 0: both descriptors refer to the same open file description. Any
    // error (no kcmp in this kernel, no permission) leaves them apart.
    if (raw_syscall(SYS_kcmp, own.real, h.real, KCMP_FILE, own.fd, h.fd) == 0) best = h.key();
  }
  return best;
}

bool HolderTable::end_held(uint64_t dev, uint64_t ino, uint32_t access) {
  return lowest_key(dev, ino, access) != ~uint64_t{0};
}

uint64_t HolderTable::lowest_key(uint64_t dev, uint64_t ino, uint32_t access) {
  uint64_t best = ~uint64_t{0};
  for (size_t i = 0; i < holders_.size(); ++i) {
    const Holder& h = holders_[i];
    if (h.dev == dev && h.ino == ino && (h.access & access) && h.key() < best) best = h.key();
  }
  return best;
}

}  // namespace ckpt::fd
