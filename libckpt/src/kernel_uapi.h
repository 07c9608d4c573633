// What the installed kernel headers (Debian 12's, Linux 6.1) lack: the
// PAGEMAP_SCAN ioctl (Linux 6.7, <linux/fs.h>) and the userfaultfd features
// of write tracking (<linux/userfaultfd.h>: WP_UNPOPULATED 6.4, WP_ASYNC 6.7).
// Values and layouts as the kernel's uapi defines them.
#pragma once

#include <linux/userfaultfd.h>
#include <stdint.h>
#include <sys/ioctl.h>

namespace ckpt::uapi {

struct page_region {
  uint64_t start, end, categories;
};

struct pm_scan_arg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
      category_anyof_mask, return_mask;
};

inline constexpr unsigned long kPagemapScan = _IOWR('f', 16, struct pm_scan_arg);

// pm_scan_arg.flags
inline constexpr uint64_t kScanWpMatching = 1u << 0;   // PM_SCAN_WP_MATCHING: write-protect what matches
inline constexpr uint64_t kScanCheckWpAsync = 1u << 1;  // PM_SCAN_CHECK_WPASYNC: fail on a range not tracked

// Page categories
inline constexpr uint64_t kPageIsWpAllowed = 1u << 0;
inline constexpr uint64_t kPageIsWritten = 1u << 1;
inline constexpr uint64_t kPageIsFile = 1u << 2;
inline constexpr uint64_t kPageIsPresent = 1u << 3;
inline constexpr uint64_t kPageIsSwapped = 1u << 4;
inline constexpr uint64_t kPageIsPfnZero = 1u << 5;

// userfaultfd
inline constexpr uint64_t kUffdFeatureWpUnpopulated = 1u << 13;
inline constexpr uint64_t kUffdFeatureWpAsync = 1u << 15;
inline constexpr int kUffdUserModeOnly = 1;  // UFFD_USER_MODE_ONLY

}  // namespace ckpt::uapi
