// The snapshot child: a copy-on-write copy of the process (taken while every
// user thread was parked) that writes the image and exits. Only raw system
// calls and the async-signal-safe image writer run here: the frozen threads'
// locks are frozen in this copy too.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/raw_syscall.h"
#include "core.h"
#include "image_writer.h"
#include "layout_section.h"
#include "log.h"
#include "page_scan.h"
#include "proc_maps.h"
#include "stats_section.h"
#include "write_tracker.h"

namespace ckpt {
namespace {

constexpr size_t kMaxMaps = image::kMaxRegions;

bool is_special(const char* path) {
  return !strcmp(path, "[vdso]") || !strcmp(path, "[vvar]") || !strcmp(path, "[vvar_vclock]");
}

// Shared mappings whose bytes live in the kernel, not in a file we can reopen:
// they are saved like private memory.
bool is_shared_anonymous(const MapEntry& m) {
  return m.path[0] == '\0' || m.path_deleted || !strncmp(m.path, "/dev/zero", 9) || !strncmp(m.path, "/SYSV", 5) ||
         !strncmp(m.path, "/memfd:", 7) || !strncmp(m.path, "/dev/shm/", 9);
}

// Shared mappings of kernel objects that are neither files nor anonymous
// memory ("anon_inode:[io_uring]", a socket's ring): nothing can map them
// again, and their bytes alone would mean nothing to a new object.
bool is_unsaveable_shared(const MapEntry& m) {
  return m.shared && m.path[0] != '\0' && m.path[0] != '/' && m.path[0] != '[';
}

image::RegionRecord region_of(const MapEntry& m) {
  image::RegionRecord r{};
  r.start = m.start;
  r.end = m.end;
  r.file_offset = m.offset;
  r.prot = m.prot;
  r.flags = m.shared ? image::kRegionShared : image::kRegionPrivate;
  if (m.path[0] == '\0' || m.path[0] == '[') r.flags |= image::kRegionAnonymous;
  else r.flags |= image::kRegionFile;
  if (!strcmp(m.path, "[heap]")) r.flags |= image::kRegionHeap;
  if (!strcmp(m.path, "[stack]")) r.flags |= image::kRegionStack;
  return r;
}

void fill_process_record(image::ProcessRecord& p, const SnapshotRequest& req) {
  p.real_pid = req.real_pid;
  p.virt_pid = req.virt_pid;
  p.virt_ppid = req.virt_ppid;
  p.uid = static_cast<uint32_t>(sys(SYS_getuid));
  p.gid = static_cast<uint32_t>(sys(SYS_getgid));
  p.computation_size = req.computation_size;
  p.generation = req.generation;
  p.computation_id = g_config.computation_id;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  p.checkpoint_time_ns = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
  p.restart_info_slot = req.restart_info_slot;
  p.brk = static_cast<uint64_t>(sys(SYS_brk, 0));
  format_to(p.unique_id, sizeof p.unique_id, "%s", g_config.unique_id);
  format_to(p.progname, sizeof p.progname, "%s", g_config.progname);
  format_to(p.hostname, sizeof p.hostname, "%s", g_config.host_name);
  if (sys(SYS_getcwd, p.cwd, sizeof p.cwd) < 0) p.cwd[0] = '\0';
  long n = sys(SYS_readlink, "/proc/self/exe", p.exe, sizeof p.exe - 1);
  p.exe[n > 0 ? n : 0] = '\0';
}

// The claim (ckpt_save_region_bytes) that covers all of `m`, or null.
const RegionClaim* claim_of(const MapEntry& m, const RegionClaim* claims, int count) {
  for (int i = 0; i < count; ++i)
    if (claims[i].start <= m.start && m.end <= claims[i].end) return &claims[i];
  return nullptr;
}

// Whether `m` lies wholly within the plugins' copies of claimed memory
// (adjacent copies may have merged into one mapping): the image holds those
// bytes as the claimed regions', not again as this process's own.
bool is_claim_copy(const MapEntry& m, const RegionClaim* claims, int count) {
  uint64_t at = m.start;
  while (at < m.end) {
    bool found = false;
    for (int i = 0; i < count && !found; ++i) {
      if (!claims[i].copy) continue;
      uint64_t from = reinterpret_cast<uint64_t>(claims[i].copy), to = from + (claims[i].end - claims[i].start);
      if (from <= at && at < to) {
        at = to;
        found = true;
      }
    }
    if (!found) return false;
  }
  return true;
}

constexpr uint64_t kPage = 4096;

// Which pages of a region the image stores.
enum class PageChoice {
  kAllNonZero,       // every page that is not all zeros (restart starts from zero pages)
  kExistingNonZero,  // pages present or swapped, and not all zeros: private anonymous memory
  kCopied,           // the COWed pages of a private file mapping, zero or not (the file has the rest)
};

bool page_is_zero(const char* p) {
  auto w = reinterpret_cast<const uint64_t*>(p);
  uint64_t any = 0;
  for (size_t i = 0; i < kPage / sizeof(uint64_t); i += 64) {
    for (size_t j = 0; j < 64; ++j) any |= w[i + j];
    if (any) return false;
  }
  return true;
}

// Adds the non-zero pages of [data + from, data + to) (offsets in the
// region) to the region being written, counting the zero ones in `fig`.
// `stable`: the bytes cannot change while the image is written.
bool add_non_zero(image::ImageWriter& writer, const char* data, uint64_t from, uint64_t to,
                  stats::ImageFigures& fig, bool stable) {
  uint64_t run = from;  // start of the current run of non-zero pages
  for (uint64_t at = from; at < to; at += kPage) {
    if (!page_is_zero(data + at)) continue;
    fig.pages_skipped_zero++;
    if (at > run && !writer.add_pages(run, data + run, at - run, stable)) return false;
    run = at + kPage;
  }
  return to <= run || writer.add_pages(run, data + run, to - run, stable);
}

// Copies `len` bytes of this process's memory at `src` to `dst`, as zeros
// where a page cannot be read: process_vm_readv reports the fault that a
// plain read would raise. A private file mapping may reach past its file's
// end (ld.so maps a library's whole span from a shorter file for a moment
// before it maps the segments over it, and a file can shrink under a
// mapping); its pages wholly past the end raise SIGBUS, which would kill the
// snapshot. The program could never have read them (it would have died), so
// nothing of its state is lost, and after a restart they read as zeros.
// `src` and `len` are page-aligned. Raw calls: libckpt interposes getpid.
void copy_readable(char* dst, const char* src, size_t len) {
  const long self = sys(SYS_getpid);
  for (size_t done = 0; done < len;) {
    iovec local{dst + done, len - done};
    iovec remote{const_cast<char*>(src + done), len - done};
    long n = sys(SYS_process_vm_readv, self, &local, 1, &remote, 1, 0);
    if (n < 0 && errno != EFAULT) {
      memcpy(dst + done, src + done, len - done);  // not available here (seccomp): read as before
      return;
    }
    done += n > 0 ? static_cast<size_t>(n) : 0;
    if (done >= len) return;
    memset(dst + done, 0, kPage);  // the page that faulted
    done += kPage;
  }
}

// add_non_zero for the pages of a file mapping, read through copy_readable a
// chunk at a time into `scratch` (kScratchBytes, page-aligned).
constexpr size_t kScratchBytes = 1 << 20;
bool add_non_zero_file(image::ImageWriter& writer, const char* data, uint64_t from, uint64_t to, char* scratch,
                       stats::ImageFigures& fig) {
  for (uint64_t chunk = from; chunk < to; chunk += kScratchBytes) {
    const uint64_t len = to - chunk < kScratchBytes ? to - chunk : kScratchBytes;
    copy_readable(scratch, data + chunk, len);
    for (uint64_t at = 0; at < len; at += kPage) {
      if (page_is_zero(scratch + at)) fig.pages_skipped_zero++;
      else if (!writer.add_pages(chunk + at, scratch + at, kPage)) return false;
    }
  }
  return true;
}

// Whether mapping `m` holds one of the `count` addresses at `own`.
bool writes_to(const MapEntry& m, const void* const* own, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const uint64_t at = reinterpret_cast<uint64_t>(own[i]);
    if (m.start <= at && at < m.end) return true;
  }
  return false;
}

// Whether the bytes of mapping `m` (record `r`) stay as they are while this
// snapshot child writes them: private anonymous memory it does not write to
// itself (`own`). Shared memory changes under it (the process runs on),
// and so do the pages of a private file mapping that were never written
// (they show the file, which others may write).
bool is_stable(const MapEntry& m, const image::RegionRecord& r, const void* const* own, size_t count) {
  return !m.shared && (r.flags & image::kRegionAnonymous) && !(r.flags & image::kRegionExternal) &&
         !writes_to(m, own, count);
}

// The first run of `runs` (sorted, disjoint) that ends after `at`.
size_t first_after(const AddrRun* runs, size_t count, uint64_t at) {
  size_t lo = 0, hi = count;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (runs[mid].end <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Pages of an incremental image: what it stores and what it inherits.
struct PageCounts {
  uint64_t stored = 0, inherited = 0;
};

// Existing anonymous pages [from, to) of region `r` (offsets): with an
// incremental plan, those tracked and not written since the parent are
// inherited, and `store(from, to)` is called for the rest.
template <typename Store>
bool split_by_plan(image::ImageWriter& writer, const IncrementalPlan* plan, const image::RegionRecord& r,
                   uint64_t from, uint64_t to, PageCounts& counts, Store&& store) {
  if (!plan || plan->mode != image::CheckpointMode::Incremental) return store(from, to);
  uint64_t at = r.start + from;
  const uint64_t end = r.start + to;
  while (at < end) {
    size_t t = first_after(plan->tracked, plan->tracked_count, at);
    if (t == plan->tracked_count || plan->tracked[t].start >= end) return store(at - r.start, to);
    if (plan->tracked[t].start > at) {
      if (!store(at - r.start, plan->tracked[t].start - r.start)) return false;
      at = plan->tracked[t].start;
    }
    const uint64_t tracked_end = plan->tracked[t].end < end ? plan->tracked[t].end : end;
    while (at < tracked_end) {
      size_t w = first_after(plan->written, plan->written_count, at);
      uint64_t next_written = w == plan->written_count ? tracked_end : plan->written[w].start;
      if (next_written > at) {  // clean since the parent
        uint64_t stop = next_written < tracked_end ? next_written : tracked_end;
        if (!writer.add_inherited(at - r.start, stop - at)) return false;
        counts.inherited += (stop - at) / kPage;
        at = stop;
      } else {
        uint64_t stop = plan->written[w].end < tracked_end ? plan->written[w].end : tracked_end;
        if (!store(at - r.start, stop - r.start)) return false;
        at = stop;
      }
    }
  }
  return true;
}

// Writes region `r` (its bytes at `data`: the memory at r.start, or a
// plugin's copy of it), storing the pages `choice` says, or with an
// incremental plan, those of them written since the parent image.
// `scan` is usable for every choice but kAllNonZero. Every page of the
// region is scanned; `fig` counts why those not stored were skipped (the
// writer counts the stored ones; inherited pages are counted by the caller
// from `counts`).
bool write_region_pages(image::ImageWriter& writer, PageScanner& scan, const image::RegionRecord& r,
                        const char* path, const char* data, bool stable, PageChoice choice,
                        const IncrementalPlan* plan, PageCounts& counts, stats::ImageFigures& fig, char* error,
                        size_t error_len) {
  if (!writer.begin_region(r, path)) return false;
  fig.pages_scanned += (r.end - r.start) / kPage;
  if (choice == PageChoice::kAllNonZero && (r.flags & image::kRegionFile)) {
    // Read whole (deleted file, no page scan): pages past the file's end
    // fault. The scratch buffer is this region's own: a pointer kept in a
    // static would be written into the image (this child writes its own
    // memory) and name unmapped memory in the restored process.
    void* scratch = mmap(nullptr, kScratchBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (scratch == MAP_FAILED) {
      format_to(error, error_len, "cannot map memory to read region 0x%lx-0x%lx", static_cast<unsigned long>(r.start),
                static_cast<unsigned long>(r.end));
      writer.abort();
      return false;
    }
    const bool ok = add_non_zero_file(writer, data, 0, r.end - r.start, static_cast<char*>(scratch), fig);
    munmap(scratch, kScratchBytes);
    return ok && writer.end_region();
  }
  if (choice == PageChoice::kAllNonZero)
    return add_non_zero(writer, data, 0, r.end - r.start, fig, stable) && writer.end_region();
  bool ok = true;
  long err = 0;
  uint64_t existing = 0;  // pages the scan found: the others were never touched
  bool scanned = scan.for_each_run(
      r.start, r.end,
      [&](const PageRun& run) {
        if (!ok) return;
        const uint64_t pages = (run.end - run.start) / kPage;
        existing += pages;
        if (run.zero) {  // the shared zero page: read, never written
          fig.pages_skipped_zero += pages;
          return;
        }
        uint64_t from = run.start - r.start, to = run.end - r.start;
        if (choice == PageChoice::kCopied && run.file) {
          fig.pages_skipped_file += pages;
          return;
        }
        ok = split_by_plan(writer, plan, r, from, to, counts, [&](uint64_t a, uint64_t b) {
          counts.stored += (b - a) / kPage;
          return choice == PageChoice::kCopied ? writer.add_pages(a, data + a, b - a, stable)
                                               : add_non_zero(writer, data, a, b, fig, stable);
        });
      },
      &err, (r.flags & image::kRegionFile) != 0);
  if (!ok) return false;
  if (!scanned) {
    format_to(error, error_len, "cannot scan the pages of region 0x%lx-0x%lx (error %ld)",
              static_cast<unsigned long>(r.start), static_cast<unsigned long>(r.end), -err);
    writer.abort();
    return false;
  }
  fig.pages_skipped_untouched += (r.end - r.start) / kPage - existing;
  return writer.end_region();
}

// Whether the pages of private file mapping `m` that the process never
// wrote can come back from its file at restart: the file at m.path is the
// one mapped (same device and inode), and it is not a ckpt image (a later
// checkpoint replaces that file under the same name; restarts of format 4
// images mapped regions from them). Records the file's identity in `r` if so.
bool file_backs(const MapEntry& m, image::RegionRecord& r) {
  if (m.path[0] != '/' || m.path_deleted) return false;
  struct stat st;
  if (sys(SYS_stat, m.path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != m.inode ||
      major(st.st_dev) != m.dev_major || minor(st.st_dev) != m.dev_minor)
    return false;
  int fd = static_cast<int>(sys(SYS_open, m.path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return false;
  char magic[sizeof image::kMagic] = {};
  long n = sys(SYS_pread64, fd, magic, sizeof magic, 0);
  sys(SYS_close, fd);
  if (n == sizeof magic && !memcmp(magic, image::kMagic, sizeof magic)) return false;
  r.flags |= image::kRegionFileBacked;
  r.file_dev = st.st_dev;
  r.file_ino = st.st_ino;
  r.file_size = static_cast<uint64_t>(st.st_size);
  r.file_mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  return true;
}

}  // namespace

// The layout fields of /proc/self/stat (proc(5) fields 26-28 and 45-51) into
// the "layout" section. Raw calls only: the other threads are parked.
void save_layout_section() {
  char buf[1024];
  int fd = static_cast<int>(sys(SYS_open, "/proc/self/stat", O_RDONLY | O_CLOEXEC));
  if (fd < 0) return;
  long n = sys(SYS_read, fd, buf, sizeof buf - 1);
  sys(SYS_close, fd);
  if (n <= 0) return;
  buf[n] = '\0';
  image::LayoutSection l{};
  if (!image::parse_stat_layout(buf, l)) return;
  l.version = image::kLayoutSectionVersion;
  l.brk = static_cast<uint64_t>(sys(SYS_brk, 0));
  ckpt_save_section(image::kLayoutSection, &l, sizeof l);
}

bool saves_private_pages(const MapEntry& m, const RegionClaim* claims, int claim_count) {
  return strcmp(m.path, "[vsyscall]") != 0 && !is_claim_copy(m, claims, claim_count) &&
         !claim_of(m, claims, claim_count) && !is_special(m.path) && !is_unsaveable_shared(m) &&
         m.prot != PROT_NONE && !m.shared;
}

bool write_snapshot(const SnapshotRequest& req, char* error, size_t error_len, char* warnings, size_t warnings_len,
                    stats::WrittenFigures& figures) {
  const int64_t started_ns = monotonic_ns();
  memset(&figures, 0, sizeof figures);
  stats::ImageFigures& fig = figures.image;
  size_t warned = 0;
  warnings[0] = '\0';
  error[0] = '\0';
  // The process being checkpointed (this child's parent while it lives).
  const pid_t parent_pid = req.real_pid;
  // The maps buffer is mapped before /proc/self/maps is read, so it shows up
  // in the list; it is skipped by address.
  size_t maps_bytes = kMaxMaps * sizeof(MapEntry);
  void* buf = mmap(nullptr, maps_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (buf == MAP_FAILED) {
    format_to(error, error_len, "cannot map memory for the region list");
    return false;
  }
  auto* maps = static_cast<MapEntry*>(buf);
  long count = read_proc_maps(0, maps, kMaxMaps);
  if (count < 0) {
    format_to(error, error_len, "cannot read /proc/self/maps (error %ld)", -count);
    return false;
  }

  image::ImageWriter writer;
  if (!writer.open(req.image_path, req.compress, req.compress_threads, req.fsync)) {
    format_to(error, error_len, "%s", writer.error());
    return false;
  }
  CKPT_LOG(Info, "image writer: %d compression threads, %s", writer.compress_workers(),
           writer.direct_io() ? "direct I/O" : "through the page cache");
  const IncrementalPlan* plan = req.plan;
  if (plan)
    writer.set_lineage(plan->image_id, req.generation, plan->mode, plan->parent_generation, plan->parent_id,
                       plan->parent_name);
  PageCounts counts;
  auto failed = [&]() {
    format_to(error, error_len, "%s", writer.error());
    writer.abort();
    return false;
  };

  static image::ProcessRecord process;
  memset(&process, 0, sizeof process);
  fill_process_record(process, req);

  ThreadSlot* slots[kMaxThreads];
  int parked = parked_slots(slots, kMaxThreads);
  process.thread_count = parked + 1;
  if (!writer.add_record(image::RecordType::Process, &process, sizeof process)) return failed();
  for (int i = 0; i < parked; ++i) {
    image::ThreadRecord rec = slots[i]->rec;
    if (rec.real_tid == parent_pid) rec.flags |= image::kThreadLeader;
    if (!writer.add_record(image::RecordType::Thread, &rec, sizeof rec)) return failed();
  }
  if (!writer.add_record(image::RecordType::Thread, &req.checkpointer, sizeof req.checkpointer)) return failed();

  static SavedSection sections[kMaxSections];  // the writer is single-threaded
  int nsections = sections_list(sections, kMaxSections);
  for (int i = 0; i < nsections; ++i)
    if (!writer.add_section(sections[i].name, sections[i].data, sections[i].size)) return failed();

  // Without PAGEMAP_SCAN (Linux < 6.7) every page counts as existing.
  static PageScanner scan;  // 12 KiB of buffer: off the stack
  bool scan_usable = scan.open();
  if (!scan_usable) CKPT_LOG(Info, "no PAGEMAP_SCAN on this kernel: every page counts as touched");
  struct CloseScan {
    ~CloseScan() { scan.close(); }
  } close_scan;
  const RegionClaim* claims = nullptr;
  const int claim_count = region_claims(&claims);
  // What this writer itself writes to while it works: its stack (and the
  // TLS beside it) and libckpt's static data. The rest of a private
  // mapping is this copy-on-write snapshot's and stays as it is, so the
  // image writer may compress it where it lies instead of copying it first.
  const void* own_memory[] = {__builtin_frame_address(0), &process, sections, &scan, &g_config};
  const size_t own_count = sizeof own_memory / sizeof own_memory[0];
  for (long i = 0; i < count; ++i) {
    const MapEntry& m = maps[i];
    if (m.start == reinterpret_cast<uint64_t>(buf)) continue;
    if (!strcmp(m.path, "[vsyscall]")) continue;  // fixed by the kernel, above user space
    if (is_claim_copy(m, claims, claim_count)) continue;
    image::RegionRecord r = region_of(m);
    const void* data = reinterpret_cast<const void*>(m.start);
    // Memory of this process that it may have left untouched; the bytes of
    // claimed memory and of shared memory may be anywhere, all are read.
    PageChoice choice = PageChoice::kAllNonZero;
    if (const RegionClaim* claim = claim_of(m, claims, claim_count)) {
      // A plugin's: its bytes as the plugin copied them while every process
      // was frozen, or none (another image holds them).
      r.flags |= image::kRegionExternal;
      data = claim->copy ? claim->copy + (m.start - claim->start) : nullptr;
    } else if (is_special(m.path)) {
      r.flags |= image::kRegionVdso | image::kRegionNoData;
      data = nullptr;
    } else if (is_unsaveable_shared(m)) {
      if (!g_config.accept_loss) {
        format_to(error, error_len, "memory 0x%lx-0x%lx is shared with %s, which ckpt cannot checkpoint",
                  static_cast<unsigned long>(m.start), static_cast<unsigned long>(m.end), m.path);
        writer.abort();
        return false;
      }
      r.flags = (r.flags & ~(image::kRegionShared | image::kRegionFile)) | image::kRegionPrivate |
                image::kRegionAnonymous | image::kRegionLost | image::kRegionNoData;
      data = nullptr;
      warned += format_to(warnings + warned, warnings_len - warned,
                          "memory 0x%lx-0x%lx (shared with %s) was not saved: after a restart it is zero-filled\n",
                          static_cast<unsigned long>(m.start), static_cast<unsigned long>(m.end), m.path);
    } else if (m.prot == PROT_NONE) {
      r.flags |= image::kRegionNoData;  // guard pages and reserved address space
      data = nullptr;
    } else if (m.shared && !is_shared_anonymous(m)) {
      r.flags |= image::kRegionNoData;  // the bytes live in the file: map it again
      data = nullptr;
    } else if (!(m.prot & PROT_READ)) {
      // Write- or execute-only: make our copy readable; the record keeps the
      // original protection.
      if (mprotect(reinterpret_cast<void*>(m.start), m.end - m.start, m.prot | PROT_READ) != 0) {
        format_to(error, error_len, "cannot read region 0x%lx-0x%lx", static_cast<unsigned long>(m.start),
                  static_cast<unsigned long>(m.end));
        writer.abort();
        return false;
      }
    }
    if (data && !m.shared && !(r.flags & image::kRegionExternal) && scan_usable) {
      if (!(r.flags & image::kRegionFile)) choice = PageChoice::kExistingNonZero;
      else if (file_backs(m, r)) choice = PageChoice::kCopied;
    }
    if (!data) {
      if (!writer.add_region(r, m.path, nullptr)) return failed();
    } else if (!write_region_pages(writer, scan, r, m.path, static_cast<const char*>(data),
                                   is_stable(m, r, own_memory, own_count), choice,
                                   (r.flags & image::kRegionExternal) ? nullptr : plan, counts, fig, error,
                                   error_len)) {
      return error[0] ? false : failed();
    }
  }
  fig.pages_written = writer.pages_raw_bytes() / kPage;
  fig.pages_skipped_unchanged = counts.inherited;  // the parent image holds them
  fig.bytes_raw = writer.pages_raw_bytes();
  fig.bytes_compressed = writer.pages_stored_bytes();
  const int64_t written_ns = monotonic_ns();
  fig.write_ns = static_cast<uint64_t>(written_ns - started_ns);
  image::StatsSection section{image::kStatsSectionVersion, 0, fig};
  if (!writer.add_section(image::kStatsSection, &section, sizeof section)) return failed();
  if (!writer.commit()) {
    format_to(error, error_len, "%s", writer.error());
    return false;
  }
  figures.version = stats::kVersion;
  figures.sync_ns = static_cast<uint64_t>(monotonic_ns() - written_ns);
  if (plan && plan->mode == image::CheckpointMode::Incremental)
    CKPT_LOG(Info,
             "checkpoint %lu: incremental over generation %lu: %lu pages written since, %lu inherited (tracking "
             "%ld us while frozen)",
             static_cast<unsigned long>(req.generation), static_cast<unsigned long>(plan->parent_generation),
             static_cast<unsigned long>(counts.stored), static_cast<unsigned long>(counts.inherited),
             static_cast<long>(plan->prepare_ns / 1000));
  else
    CKPT_LOG(Info, "checkpoint %lu: %s image (tracking %ld us while frozen)", static_cast<unsigned long>(req.generation),
             image::checkpoint_mode_name(static_cast<uint32_t>(plan ? plan->mode : image::CheckpointMode::FullFirst)),
             static_cast<long>(plan ? plan->prepare_ns / 1000 : 0));
  return true;
}

}  // namespace ckpt
