// Which pages of the snapshot child's memory exist, from the kernel's page
// tables (the PAGEMAP_SCAN ioctl on /proc/self/pagemap, Linux >= 6.7).
// Async-signal-safe: raw system calls and a fixed buffer, no allocation.
//
// The snapshot child is a fork of the process being checkpointed: fork
// copies the page table entries of every mapping that has anonymous pages
// (present ones and swap entries alike), so the child sees the parent's
// anonymous pages where they were. A private file mapping with no anonymous
// page has no entries copied at all (its pages come from the file on a
// fault), and one with some has its file pages flagged as such.
#pragma once

#include <stdint.h>

namespace ckpt {

// A run of pages [start, end) whose page table entries agree.
struct PageRun {
  uint64_t start, end;
  bool file;  // pages of the mapped file (not COWed): the file has their bytes
  bool zero;  // mapped to the kernel's shared zero page: read but never written
};

class PageScanner {
 public:
  // No destructor: the scanner lives in static storage of the snapshot
  // child, whose memory the image saves; a restored process must not close
  // the child's descriptor at its exit. close() does, in the child.
  PageScanner() = default;
  PageScanner(const PageScanner&) = delete;
  PageScanner& operator=(const PageScanner&) = delete;

  // Opens /proc/self/pagemap and checks that the kernel has PAGEMAP_SCAN.
  // False if it cannot: then every page has to be treated as existing.
  bool open();
  void close();
  bool usable() const { return fd_ >= 0; }

  // Calls f(run) for each run of pages in [start, end) that are present or
  // swapped out (pages never touched are neither), in address order.
  // Returns false (with -errno in *err) if the scan failed part-way.
  // PageRun::file is only told with `want_file`: the kernel then looks at
  // each present page's struct page (a cache miss each, ~30 ms per GiB),
  // which an anonymous mapping, whose pages are all anonymous, can spare.
  template <typename F>
  bool for_each_run(uint64_t start, uint64_t end, F&& f, long* err, bool want_file = true) {
    while (start < end) {
      uint64_t walk_end = end;
      long n = scan(start, end, &walk_end, want_file);
      if (n < 0) {
        *err = n;
        return false;
      }
      for (long i = 0; i < n; ++i) f(run(i));
      if (walk_end <= start) {  // no progress: the kernel would loop us forever
        *err = -5;              // EIO
        return false;
      }
      start = walk_end;
    }
    return true;
  }

 private:
  static constexpr int kRuns = 512;
  // One PAGEMAP_SCAN call: fills vec_, returns the number of runs or
  // -errno, and where the walk stopped in *walk_end.
  long scan(uint64_t start, uint64_t end, uint64_t* walk_end, bool want_file);
  PageRun run(long i) const;

  int fd_ = -1;
  // The kernel's struct page_region array: start, end, categories.
  uint64_t vec_[3 * kRuns];
};

}  // namespace ckpt
