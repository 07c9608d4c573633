#include "write_tracker.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"
#include "core.h"
#include "kernel_uapi.h"
#include "log.h"
#include "proc_maps.h"

namespace ckpt {
namespace {

constexpr size_t kScanRuns = 512;  // page runs one PAGEMAP_SCAN call returns at most

// Appends [start, end) to a sorted AddrRun list, merging it with the last
// run when they touch.
bool append_run(MappedBuffer& runs, uint64_t start, uint64_t end) {
  const size_t n = runs.size() / sizeof(AddrRun);
  if (n) {
    AddrRun* last = runs.at<AddrRun>((n - 1) * sizeof(AddrRun));
    if (last->end == start) {
      last->end = end;
      return true;
    }
  }
  AddrRun run{start, end};
  return runs.append(&run, sizeof run) != MappedBuffer::kFailed;
}

const AddrRun* runs_of(const MappedBuffer& b) { return reinterpret_cast<const AddrRun*>(b.data()); }
size_t count_of(const MappedBuffer& b) { return b.size() / sizeof(AddrRun); }

// Whether [start, end) lies within one run of `runs` (sorted, disjoint).
bool within(const MappedBuffer& runs, uint64_t start, uint64_t end) {
  const AddrRun* r = runs_of(runs);
  size_t lo = 0, hi = count_of(runs);
  while (lo < hi) {  // the first run that ends after `start`
    const size_t mid = (lo + hi) / 2;
    if (r[mid].end <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo < count_of(runs) && r[lo].start <= start && end <= r[lo].end;
}

// This process's memory map and an open /proc/self/pagemap, for one pass
// over its regions. The list is mapped without reservation (room for the
// most regions an image holds, of which a process uses a few pages) and
// lies in the list itself: skip it with is_own().
struct MapsPass {
  MapEntry* maps = nullptr;
  long count = -ENOMEM;
  int pagemap = -1;
  static constexpr size_t kBytes = image::kMaxRegions * sizeof(MapEntry);

  MapsPass() {
    const long at = raw_syscall(SYS_mmap, 0, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                                -1, 0);
    if (at < 0 && at > -4096) return;
    maps = reinterpret_cast<MapEntry*>(at);
    count = read_proc_maps(0, maps, image::kMaxRegions);
    pagemap = static_cast<int>(
        raw_syscall(SYS_open, reinterpret_cast<long>("/proc/self/pagemap"), O_RDONLY | O_CLOEXEC));
  }
  ~MapsPass() {
    if (pagemap >= 0) raw_syscall(SYS_close, pagemap);
    if (maps) raw_syscall(SYS_munmap, reinterpret_cast<long>(maps), kBytes);
  }
  bool ok() const { return count >= 0 && pagemap >= 0; }
  bool is_own(const MapEntry& m) const { return m.start == reinterpret_cast<uint64_t>(maps); }
};

}  // namespace

bool WriteTracker::open_uffd() {
  if (uffd_ >= 0) return true;
  if (uffd_failed_) return false;
  // User-mode faults only: allowed to every user whatever
  // vm.unprivileged_userfaultfd says, and asynchronous write-protection
  // never delivers a fault to anyone anyway.
  long fd = raw_syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | uapi::kUffdUserModeOnly);
  if (fd < 0) {
    CKPT_LOG(Info, "no write tracking (userfaultfd: error %ld): every checkpoint is full", -fd);
    uffd_failed_ = true;
    return false;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = uapi::kUffdFeatureWpAsync | uapi::kUffdFeatureWpUnpopulated;
  long rc = raw_syscall(SYS_ioctl, fd, static_cast<long>(UFFDIO_API), reinterpret_cast<long>(&api));
  if (rc < 0) {
    CKPT_LOG(Info, "no write tracking (userfaultfd without asynchronous write-protection: error %ld): every "
             "checkpoint is full", -rc);
    raw_syscall(SYS_close, fd);
    uffd_failed_ = true;
    return false;
  }
  protect_fd(static_cast<int>(fd), &uffd_);
  return true;
}

bool WriteTracker::register_and_protect(int pagemap, uint64_t start, uint64_t end) {
  uffdio_register reg{};
  reg.range.start = start;
  reg.range.len = end - start;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  // EBUSY: the application registered this memory with a userfaultfd of its
  // own; it stays untracked and is saved whole every time.
  if (raw_syscall(SYS_ioctl, uffd_, static_cast<long>(UFFDIO_REGISTER), reinterpret_cast<long>(&reg)) < 0)
    return false;
  // Only the pages that exist are protected: UFFDIO_WRITEPROTECT would put a
  // marker in every missing page's entry, filling page tables for all of a
  // sparse reservation (a 1 TiB MAP_NORESERVE mapping: 2 GiB of them). A
  // page that does not exist yet is written when it comes to exist.
  uapi::pm_scan_arg arg{};
  arg.size = sizeof arg;
  arg.flags = uapi::kScanWpMatching | uapi::kScanCheckWpAsync;
  arg.start = start;
  arg.end = end;
  arg.category_anyof_mask = uapi::kPageIsPresent | uapi::kPageIsSwapped;
  return raw_syscall(SYS_ioctl, pagemap, static_cast<long>(uapi::kPagemapScan), reinterpret_cast<long>(&arg)) >= 0;
}

bool WriteTracker::scan_written(int pagemap, uint64_t start, uint64_t end, MappedBuffer* into) {
  uapi::page_region vec[kScanRuns];
  while (start < end) {
    uapi::pm_scan_arg arg{};
    arg.size = sizeof arg;
    // Written pages are reported and write-protected again in one walk
    // under the page table locks; a range we do not track fails the call
    // (CHECK_WPASYNC) instead of being skipped in silence. Only pages that
    // exist, as in register_and_protect: asked for written pages alone,
    // the kernel counts every missing page as written and puts a marker
    // in its entry, filling the page tables of a whole sparse reservation
    // (a 1 TiB MAP_NORESERVE mapping: 7 s in the frozen window, then 10 s
    // more for the fork to copy them). A missing page is neither stored
    // nor inherited anyway (the writer keeps existing pages only), and one
    // that comes to exist later is written.
    arg.flags = uapi::kScanWpMatching | uapi::kScanCheckWpAsync;
    arg.start = start;
    arg.end = end;
    arg.vec = reinterpret_cast<uint64_t>(vec);
    arg.vec_len = kScanRuns;
    arg.category_anyof_mask = uapi::kPageIsPresent | uapi::kPageIsSwapped;
    arg.category_mask = uapi::kPageIsWritten;
    arg.return_mask = uapi::kPageIsWritten;
    long n = raw_syscall(SYS_ioctl, pagemap, static_cast<long>(uapi::kPagemapScan), reinterpret_cast<long>(&arg));
    if (n < 0) return false;
    for (long i = 0; into && i < n; ++i)
      if (!append_run(*into, vec[i].start, vec[i].end)) return false;
    if (arg.walk_end <= start) return false;  // no progress
    start = arg.walk_end;
  }
  return true;
}

void WriteTracker::prepare(uint64_t generation, const char* image_path, const RegionClaim* claims, int claim_count,
                           IncrementalPlan& plan) {
  plan = IncrementalPlan{};
  while (!plan.image_id)
    if (raw_syscall(SYS_getrandom, reinterpret_cast<long>(&plan.image_id), sizeof plan.image_id, 0) !=
        sizeof plan.image_id)
      plan.image_id = static_cast<uint64_t>(raw_syscall(SYS_gettid)) << 32 | static_cast<uint64_t>(generation);
  pending_ = Lineage{};
  if (!enabled_) {
    plan.mode = image::CheckpointMode::FullDisabled;
    return;
  }
  if (!open_uffd()) {
    plan.mode = image::CheckpointMode::FullNoTracking;
    return;
  }
  const char* slash = strrchr(image_path, '/');
  const size_t dir_len = slash ? static_cast<size_t>(slash - image_path) : 0;
  const char* name = slash ? slash + 1 : image_path;
  if (dir_len >= sizeof pending_.dir || strlen(name) >= sizeof pending_.name) {
    plan.mode = image::CheckpointMode::FullLostTracking;
    return;
  }
  memcpy(pending_.dir, image_path, dir_len);
  pending_.dir[dir_len] = '\0';
  format_to(pending_.name, sizeof pending_.name, "%s", name);

  using image::CheckpointMode;
  CheckpointMode mode = CheckpointMode::Incremental;
  if (!last_.valid) mode = CheckpointMode::FullFirst;
  else if (lost_ || strcmp(last_.dir, pending_.dir) != 0) mode = CheckpointMode::FullLostTracking;
  else if (last_.chain >= full_every_) mode = CheckpointMode::FullPeriodic;
  const bool incremental = mode == CheckpointMode::Incremental;

  MapsPass pass;
  if (!pass.ok()) {
    CKPT_LOG(Warn, "write tracking: cannot read this process's memory map: the image is full");
    tracked_.clear();
    armed_.clear();
    plan.mode = CheckpointMode::FullLostTracking;
    return;
  }
  const MapEntry* maps = pass.maps;
  const long count = pass.count;
  const int pagemap = pass.pagemap;
  inherit_.clear();
  written_.clear();
  next_.clear();
  const AddrRun* tracked = runs_of(tracked_);
  const size_t tracked_count = count_of(tracked_);
  size_t t = 0;
  bool ok = true;
  for (long i = 0; i < count && ok; ++i) {
    const MapEntry& m = maps[i];
    // Our own list lies in the list: it is gone before the snapshot.
    if (pass.is_own(m) || !saves_private_pages(m, claims, claim_count)) continue;
    uint64_t covered = 0;
    if (incremental) {
      while (t < tracked_count && tracked[t].end <= m.start) ++t;
      for (size_t k = t; k < tracked_count && tracked[k].start < m.end; ++k) {
        const uint64_t lo = tracked[k].start > m.start ? tracked[k].start : m.start;
        const uint64_t hi = tracked[k].end < m.end ? tracked[k].end : m.end;
        if (!scan_written(pagemap, lo, hi, &written_)) continue;  // no longer ours: saved whole
        ok = append_run(inherit_, lo, hi);
        covered += hi - lo;
      }
    }
    // Memory not tracked since the parent (new, moved, or tracked only in
    // part) is registered and protected now, and saved whole this time.
    // Memory that is registered and protected already (by arm_ahead(), or
    // tracked for a full image) only has what was written since protected
    // again; the scan fails for memory that is no longer ours.
    if (covered != m.end - m.start &&
        !(covered == 0 && armed(m.start, m.end) && scan_written(pagemap, m.start, m.end, nullptr)) &&
        !register_and_protect(pagemap, m.start, m.end))
      continue;
    ok = ok && append_run(next_, m.start, m.end);
  }
  armed_.clear();
  tracked_.clear();
  if (!ok || tracked_.append(next_.data(), next_.size()) == MappedBuffer::kFailed) {
    // Out of memory for our lists: nothing is known to be tracked.
    CKPT_LOG(Warn, "write tracking: out of memory: the image is full");
    tracked_.clear();
    plan.mode = CheckpointMode::FullLostTracking;
    return;
  }
  pending_.valid = true;
  pending_.generation = generation;
  pending_.image_id = plan.image_id;
  pending_.chain = incremental ? last_.chain + 1 : 1;
  plan.mode = mode;
  if (!incremental) return;
  plan.parent_generation = last_.generation;
  plan.parent_id = last_.image_id;
  format_to(plan.parent_name, sizeof plan.parent_name, "%s", last_.name);
  plan.tracked = runs_of(inherit_);
  plan.tracked_count = count_of(inherit_);
  plan.written = runs_of(written_);
  plan.written_count = count_of(written_);
}

void WriteTracker::arm_ahead(const RegionClaim* claims, int claim_count) {
  armed_.clear();
  if (!enabled_ || !open_uffd()) return;
  MapsPass pass;
  if (!pass.ok()) return;  // prepare() will say so
  const AddrRun* tracked = runs_of(tracked_);
  const size_t tracked_count = count_of(tracked_);
  size_t t = 0;
  for (long i = 0; i < pass.count; ++i) {
    const MapEntry& m = pass.maps[i];
    if (pass.is_own(m) || !saves_private_pages(m, claims, claim_count)) continue;
    // Tracked memory needs nothing now: prepare() scans it anyway.
    while (t < tracked_count && tracked[t].end <= m.start) ++t;
    if (t < tracked_count && tracked[t].start <= m.start && m.end <= tracked[t].end) continue;
    if (register_and_protect(pass.pagemap, m.start, m.end) && !append_run(armed_, m.start, m.end)) return;
  }
}

bool WriteTracker::armed(uint64_t start, uint64_t end) const {
  return within(armed_, start, end) || within(tracked_, start, end);
}

void WriteTracker::untrack(uint64_t start, uint64_t end) {
  // The next prepare() finds the range no longer ours (its scan fails with
  // PM_SCAN_CHECK_WPASYNC) and saves it whole: nothing else to note.
  const int uffd = uffd_;
  if (uffd < 0 || start >= end) return;
  uffdio_range range{start, end - start};
  // Fails for memory that is not ours (EINVAL) or not mapped: nothing to let go of then.
  raw_syscall(SYS_ioctl, uffd, static_cast<long>(UFFDIO_UNREGISTER), reinterpret_cast<long>(&range));
}

void WriteTracker::committed(uint64_t generation) {
  if (pending_.valid && pending_.generation == generation) {
    last_ = pending_;
    lost_ = false;
  }
  pending_ = Lineage{};
}

void WriteTracker::forget_after_restart() {
  uffd_ = -1;
  uffd_failed_ = false;
  last_ = pending_ = Lineage{};
  tracked_.clear();
  armed_.clear();
  lost_ = false;
}

void WriteTracker::forget_after_fork() {
  if (uffd_ >= 0) close_own_fd(uffd_);
  forget_after_restart();
}

}  // namespace ckpt
