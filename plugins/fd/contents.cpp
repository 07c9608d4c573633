#include "contents.h"

#include <fcntl.h>
#include <sys/syscall.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "ckpt/frozen_io.h"
#include "tree_sections.h"

namespace ckpt::fd {

bool save_file_contents(int fd, uint32_t status_flags, uint64_t desc_id) {
  // A write-only or O_PATH descriptor cannot be read: read through a new
  // description of the same inode (works for unlinked files too).
  long rfd = fd;
  if ((status_flags & O_ACCMODE) == O_WRONLY || (status_flags & O_PATH)) {
    ShortText path = proc_path(0, "fd", fd);
    rfd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path.c_str()), O_RDONLY | O_CLOEXEC);
    if (rfd < 0) return false;
  }
  // Sections are at most 4 GiB - 1 (SectionRecord.size is 32 bits).
  constexpr uint64_t kMaxContents = 0xffffffffu;
  MappedBuffer bytes;
  bool ok = true;
  for (;;) {
    constexpr size_t kChunk = 1 << 20;
    char* dst = bytes.grow_for(kChunk);
    if (!dst) {
      ok = false;
      break;
    }
    // pread: the application's offset stays where it was.
    long n = raw_syscall(SYS_pread64, rfd, reinterpret_cast<long>(dst), kChunk, static_cast<long>(bytes.size()));
    if (n == -EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    bytes.commit(static_cast<size_t>(n));
    if (bytes.size() > kMaxContents) {
      ok = false;
      break;
    }
  }
  if (rfd != fd) raw_syscall(SYS_close, rfd);
  if (ok) {
    ShortText name;
    name.add(image::kFileContentsPrefix).hex(desc_id, 16);
    ok = ckpt_save_section(name.c_str(), bytes.data(), bytes.size()) == 0;
  }
  bytes.release();
  return ok;
}

}  // namespace ckpt::fd
