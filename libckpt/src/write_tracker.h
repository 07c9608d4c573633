// Incremental checkpoints: which pages of the process were written since its
// last committed image. userfaultfd write-protection in asynchronous mode
// (UFFD_FEATURE_WP_ASYNC) marks every page clean at a checkpoint; the kernel
// clears the mark on the first write without any fault reaching us; the
// next checkpoint reads the written pages and marks them clean again in one
// PAGEMAP_SCAN (PM_SCAN_WP_MATCHING), while the application is frozen, so
// no write falls between reading and re-arming.
//
// The scan runs in the process itself, before the snapshot fork: a fork
// child's memory carries no write-protection. The child gets the result
// (an IncrementalPlan, in memory it shares copy-on-write) and writes the
// written pages, naming the others as the parent image's.
//
// Async-signal-safe: raw system calls and mmap'd buffers only (the
// checkpoint thread runs it while user threads are frozen).
#pragma once

#include <stddef.h>
#include <stdint.h>


#include "ckpt/frozen_io.h"
#include "image_format.h"

namespace ckpt {

struct RegionClaim;

// A run of addresses [start, end).
struct AddrRun {
  uint64_t start, end;
};

// What one checkpoint's image writer needs to know.
struct IncrementalPlan {
  image::CheckpointMode mode = image::CheckpointMode::FullFirst;
  uint64_t image_id = 0;  // this image's identity
  uint64_t parent_generation = 0, parent_id = 0;
  char parent_name[256] = {};
  // Incremental only, both sorted and disjoint: the addresses whose pages
  // were tracked since the parent (each page there is the parent's unless
  // written), and the pages written since.
  const AddrRun* tracked = nullptr;
  size_t tracked_count = 0;
  const AddrRun* written = nullptr;
  size_t written_count = 0;
  // What prepare() took (in the frozen window): for the checkpoint's log line.
  int64_t prepare_ns = 0;
};

class WriteTracker {
 public:
  // `enabled` false: every image is full and nothing is registered.
  // `full_every`: at most this many images per chain (1: all full).
  void configure(bool enabled, unsigned full_every) {
    enabled_ = enabled;
    full_every_ = full_every ? full_every : 1;
  }

  // In the frozen window right before the snapshot fork of `generation`,
  // whose image goes to `image_path`: decides full or incremental, reads
  // and re-arms the written pages, and tracks every region the image will
  // save. `claims`: memory plugins save themselves (not tracked).
  void prepare(uint64_t generation, const char* image_path, const RegionClaim* claims, int claim_count,
               IncrementalPlan& plan);
  // Before the threads are frozen for a checkpoint: registers and protects
  // the memory no earlier prepare() tracks, so that prepare() (in the
  // frozen window) only re-protects what was written since, instead of
  // protecting every page of it (~6 ms per GiB, the first checkpoint's
  // pause). What changes meanwhile is caught there: a region armed here
  // and gone or replaced by then is registered afresh.
  void arm_ahead(const RegionClaim* claims, int claim_count);
  // The image of `generation` is committed: the next may build on it.
  void committed(uint64_t generation);
  // The checkpoint under way failed: its scan consumed the written marks,
  // so the next image is full.
  void failed() { lost_ = true; }
  // The application registers [start, end) with a userfaultfd of its own
  // (ckpt_untrack_memory): ours lets go of it, and the next image saves it
  // whole. Any thread, any time: our registration is only touched again by
  // the checkpoint thread, in arm_ahead() and in the frozen window. One of
  // those may take the range back between this call and the application's
  // UFFDIO_REGISTER, which then fails with EBUSY: the ioctl wrapper
  // (plugins/pid) untracks and registers once more.
  void untrack(uint64_t start, uint64_t end);
  // In a restored process: the descriptor belonged to the old process and
  // nothing is registered in this address space. The next image is full.
  void forget_after_restart();
  // In a fork child that joins the computation as a process of its own (its
  // memory is not registered, its images have no parent): closes our copy.
  void forget_after_fork();

 private:
  bool open_uffd();
  bool register_and_protect(int pagemap, uint64_t start, uint64_t end);
  // Appends to written_ the pages of [start, end) written since they were
  // protected, protecting them again; false if the range is not (entirely)
  // tracked by us any more.
  // `into` null: the pages are protected again and forgotten.
  bool scan_written(int pagemap, uint64_t start, uint64_t end, MappedBuffer* into);
  // Whether [start, end) lies within one run of armed_ or tracked_:
  // registered and protected but for what was written since.
  bool armed(uint64_t start, uint64_t end) const;

  bool enabled_ = true;
  unsigned full_every_ = 8;
  int uffd_ = -1;
  bool uffd_failed_ = false;  // userfaultfd or its features are unavailable: do not try again
  bool lost_ = false;
  MappedBuffer tracked_;  // AddrRun[]: registered and protected at the last prepare(), saved by that image
  MappedBuffer next_;     // AddrRun[]: what prepare() registers now
  MappedBuffer inherit_;  // AddrRun[]: IncrementalPlan::tracked
  MappedBuffer written_;  // AddrRun[]: IncrementalPlan::written
  MappedBuffer armed_;    // AddrRun[]: registered and protected by arm_ahead() since the last prepare()

  // An image this process wrote: what a child image names.
  struct Lineage {
    bool valid = false;
    uint64_t generation = 0, image_id = 0;
    uint32_t chain = 0;  // images in its chain, itself included
    char dir[4096] = {};
    char name[256] = {};
  };
  Lineage last_, pending_;
};

}  // namespace ckpt
