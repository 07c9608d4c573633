#include "page_scan.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"
#include "kernel_uapi.h"

namespace ckpt {
namespace {

using uapi::page_region;
using uapi::pm_scan_arg;
using uapi::kPagemapScan;
using uapi::kPageIsFile;
using uapi::kPageIsPresent;
using uapi::kPageIsSwapped;
using uapi::kPageIsPfnZero;

}  // namespace

void PageScanner::close() {
  if (fd_ >= 0) raw_syscall(SYS_close, fd_);
  fd_ = -1;
}

bool PageScanner::open() {
  fd_ = static_cast<int>(raw_syscall(SYS_open, reinterpret_cast<long>("/proc/self/pagemap"), O_RDONLY | O_CLOEXEC));
  if (fd_ < 0) return false;
  // An empty range: a kernel without the ioctl answers ENOTTY or EINVAL.
  uint64_t walk_end;
  if (scan(0, 0, &walk_end, false) < 0) {
    close();
    return false;
  }
  return true;
}

long PageScanner::scan(uint64_t start, uint64_t end, uint64_t* walk_end, bool want_file) {
  static_assert(sizeof(page_region) == 3 * sizeof(uint64_t), "the kernel's struct page_region");
  pm_scan_arg arg{};
  arg.size = sizeof arg;
  arg.start = start;
  arg.end = end;
  arg.vec = reinterpret_cast<uint64_t>(vec_);
  arg.vec_len = kRuns;
  arg.category_anyof_mask = kPageIsPresent | kPageIsSwapped;
  arg.return_mask = want_file ? kPageIsFile | kPageIsPfnZero : kPageIsPfnZero;
  long n = raw_syscall(SYS_ioctl, fd_, static_cast<long>(kPagemapScan), reinterpret_cast<long>(&arg));
  if (n < 0) return n;
  *walk_end = arg.walk_end;
  return n;
}

PageRun PageScanner::run(long i) const {
  const uint64_t* r = vec_ + 3 * i;
  return PageRun{r[0], r[1], (r[2] & kPageIsFile) != 0, (r[2] & kPageIsPfnZero) != 0};
}

}  // namespace ckpt
