#include "process_restore.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "proc_maps.h"
#include "ckpt/restart.h"
#include "layout_section.h"
#include "lazy_pages.h"
#include "restore_args.h"

extern "C" const char ckpt_restorer_blob[];
extern "C" const char ckpt_restorer_blob_end[];

namespace ckpt {
namespace {

using image::ImageReader;
using image::Region;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kThreadStack = 16 * 1024;
constexpr uint64_t kMainStack = 256 * 1024;
constexpr uint64_t kParking = 64 * kPage;  // room for moving [vdso]/[vvar] (restorer.c)
constexpr uint64_t kLowestAddress = 1ull << 32;
constexpr uint64_t kHighestAddress = 0x7ff000000000ull;

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

std::string errno_text() { return std::strerror(errno); }

struct Range {
  uint64_t start, end;
};

// The lowest-risk free range of `size` bytes: free both now and in the saved
// layout, searched from the top of the usual mmap area down.
uint64_t find_hole(std::vector<Range> used, uint64_t size) {
  std::sort(used.begin(), used.end(), [](const Range& a, const Range& b) { return a.start < b.start; });
  std::vector<Range> merged;
  for (const Range& r : used) {
    if (!merged.empty() && r.start <= merged.back().end) merged.back().end = std::max(merged.back().end, r.end);
    else merged.push_back(r);
  }
  uint64_t top = kHighestAddress;
  const uint64_t guard = 1ull << 20;
  for (auto it = merged.rbegin();; ++it) {
    uint64_t below = it == merged.rend() ? kLowestAddress : it->end;
    if (below < top && top - below >= size + 2 * guard) return (top - guard - size) & ~((1ull << 21) - 1);
    if (it == merged.rend()) return 0;
    top = std::min(top, it->start);
    if (top <= kLowestAddress) return 0;
  }
}

// Shared file mappings come back from their files: those whose bytes the
// image does not hold, and renamed ones (the pid table: every process must
// map the one new file, whatever bytes the old one had).
bool is_remapped_file(const Region& r, const PathRewriter* paths) {
  if (!(r.rec.flags & image::kRegionFile) || !(r.rec.flags & image::kRegionShared) ||
      (r.rec.flags & image::kRegionExternal))
    return false;
  return (r.rec.flags & image::kRegionNoData) || (paths && paths->renamed(r.path));
}

void plan_specials(const ImageReader& img, const std::vector<MapEntry>& current,
                   std::vector<ckpt_special_move>& specials) {
  std::vector<const Region*> saved;
  for (const Region& r : img.regions())
    if (r.rec.flags & image::kRegionVdso) saved.push_back(&r);
  size_t current_count = 0;
  for (const MapEntry& m : current) {
    std::string name = m.path;
    if (name != "[vdso]" && name != "[vvar]" && name != "[vvar_vclock]") continue;
    ++current_count;
    auto it = std::find_if(saved.begin(), saved.end(), [&](const Region* r) { return r->path == name; });
    if (it == saved.end())
      throw RestartError("image " + img.path() + ": this kernel has " + name +
                         " but the image does not (saved on another kernel?)");
    if ((*it)->rec.end - (*it)->rec.start != m.end - m.start)
      throw RestartError("image " + img.path() + ": " + name + " has a different size on this kernel");
    specials.push_back({m.start, m.end, (*it)->rec.start});
  }
  if (current_count != saved.size())
    throw RestartError("image " + img.path() + ": the vdso layout differs from this kernel's (saved on another kernel?)");
}

ckpt_restore_thread thread_of(const image::ThreadRecord& t) {
  ckpt_restore_thread out{};
  out.virt_tid = t.virt_tid;
  out.is_leader = (t.flags & image::kThreadLeader) != 0;
  out.rseq_len = t.rseq_len;
  out.fs_base = t.fs_base;
  out.clear_child_tid = t.clear_child_tid;
  out.robust_list = t.robust_list;
  out.robust_list_len = t.robust_list_len;
  out.rseq_addr = t.rseq_addr;
  out.rseq_sig = t.rseq_sig;
  out.sigmask = t.sigmask;
  static_assert(sizeof out.ctx == sizeof t.ctx);
  std::memcpy(&out.ctx, &t.ctx, sizeof out.ctx);
  return out;
}

// Reads every staged region into place, on every core.
void stage_regions(const ImageReader& img, const std::vector<std::pair<const Region*, uint64_t>>& jobs) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::string first_error;
  std::mutex error_lock;
  auto worker = [&]() {
    for (size_t i; !failed && (i = next++) < jobs.size();) {
      std::string err;
      if (!img.read_region(*jobs[i].first, reinterpret_cast<void*>(jobs[i].second), err)) {
        std::lock_guard<std::mutex> g(error_lock);
        if (!failed.exchange(true)) first_error = err;
      }
    }
  };
  unsigned n = std::max(1u, std::min(std::thread::hardware_concurrency(), static_cast<unsigned>(jobs.size())));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < n; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failed) throw RestartError(first_error);
}

// The restored process's libckpt moves its own descriptors up to 1000 and
// above (protected_fds.cpp: kPreferredBase, or 64 below the soft
// RLIMIT_NOFILE) once it has threads, and growing a descriptor table that
// threads share waits for an RCU grace period (9 ms measured, on the way
// to running again). Grown here, while this process has one thread, the
// table keeps its size through the restore. Best effort: nothing changes
// but the table's size.
void grow_fd_table() {
  constexpr long kLibckptBase = 1000, kLibckptFds = 64;  // protected_fds.cpp
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
  const long soft = static_cast<long>(rl.rlim_cur);
  const long top = std::min(std::max(std::min(soft - kLibckptFds, kLibckptBase), 3L) + kLibckptFds - 1, soft - 1);
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  int high = fcntl(fd, F_DUPFD_CLOEXEC, static_cast<int>(top));
  if (high >= 0) close(high);
  close(fd);
}

// A copy of `fd` at or above `floor` (below it lie the numbers the restored
// process's own descriptors take); the original is closed.
int32_t lift_fd(int fd, int floor, const std::string& what) {
  int high = fcntl(fd, F_DUPFD_CLOEXEC, floor);
  if (high < 0) throw RestartError("cannot keep " + what + " open: " + errno_text());
  return high;
}

}  // namespace

int open_backing_file(const ImageReader& img, const Region& r, const PathRewriter* paths) {
  const image::RegionRecord& rec = r.rec;
  std::string path = paths ? paths->apply(r.path) : r.path;
  bool relocated = path != r.path;
  char where[64];
  std::snprintf(where, sizeof where, "0x%" PRIx64 "-0x%" PRIx64, rec.start, rec.end);
  auto refuse = [&](const std::string& why) {
    return RestartError("image " + img.path() + ": file " + path + " (mapped at " + where + ") " + why +
                        " since the checkpoint: restart refused");
  };
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw RestartError("image " + img.path() + ": cannot open mapped file " + path + ": " + errno_text());
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    throw RestartError("image " + img.path() + ": cannot stat mapped file " + path + ": " + errno_text());
  }
  std::string why;
  int64_t mtime = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  // A relocated file is a copy: another inode, the same size and time.
  if (!relocated && (st.st_dev != rec.file_dev || st.st_ino != rec.file_ino)) why = "was replaced by another file";
  else if (static_cast<uint64_t>(st.st_size) != rec.file_size)
    why = "changed size (" + std::to_string(rec.file_size) + " -> " + std::to_string(st.st_size) + " bytes)";
  else if (mtime != rec.file_mtime_ns) why = "was modified";
  if (!why.empty()) {
    close(fd);
    throw refuse(why);
  }
  return fd;
}

void check_backing_files(const ImageReader& img, const PathRewriter& paths) {
  for (const Region& r : img.regions())
    if (r.rec.flags & image::kRegionFileBacked) close(open_backing_file(img, r, &paths));
}

std::vector<MappedFile> mapped_files(const ImageReader& img, const PathRewriter& paths) {
  std::vector<MappedFile> out;
  for (const Region& r : img.regions())
    if (is_remapped_file(r, &paths)) out.push_back({paths.apply(r.path), (r.rec.prot & PROT_WRITE) != 0});
  return out;
}

uint64_t saved_heap_start(const ImageReader& img) {
  for (const Region& r : img.regions())
    if (r.rec.flags & image::kRegionHeap) return r.rec.start;
  return img.process().brk;
}

ckpt_mm_layout own_mm_layout() {
  ckpt_mm_layout layout{};
  FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return layout;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  image::LayoutSection l{};
  if (!image::parse_stat_layout(buf, l)) return layout;
  layout = {l.start_code, l.end_code, l.start_data, l.end_data, l.start_brk, 0,
            l.start_stack, l.arg_start, l.arg_end, l.env_start, l.env_end};
  layout.brk = static_cast<uint64_t>(syscall(SYS_brk, 0));
  return layout;
}

uint64_t own_start_brk() { return own_mm_layout().start_brk; }

// The layout the process had (section "layout"); false for an image
// without one.
bool saved_layout(const ImageReader& img, image::LayoutSection& out) {
  for (const image::Section& sec : img.sections()) {
    if (sec.name != image::kLayoutSection) continue;
    if (sec.data.size() != sizeof out)
      throw RestartError("image " + img.path() + ": section layout has " + std::to_string(sec.data.size()) +
                         " bytes, expected " + std::to_string(sizeof out) + " (written by another version?)");
    std::memcpy(&out, sec.data.data(), sizeof out);
    if (out.version != image::kLayoutSectionVersion)
      throw RestartError("image " + img.path() + ": section layout has version " + std::to_string(out.version) +
                         ", this ckpt_restart reads version " + std::to_string(image::kLayoutSectionVersion));
    return true;
  }
  return false;
}

bool can_set_mm_layout() {
  unsigned int size = 0;
  return prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0) == 0 && size == sizeof(ckpt_mm_layout) + 16;
}

// The kinds' source for region `r`, if one claims it; a region saved by a
// plugin (kRegionExternal) that no kind supplies cannot be restored.
bool kind_source(const ImageReader& img, const Region& r, const RestartContext& ctx, size_t process,
                 uint64_t stage_at, RegionSource& out) {
  for (RestartKind* kind : restart_kinds())
    if (kind->region_source(ctx, process, r, stage_at, out)) {
      if (!out.staged && out.fd < 0)
        throw RestartError(std::string("restart kind ") + kind->name() + " gave no source for memory at " +
                           std::to_string(r.rec.start));
      return true;
    }
  if (r.rec.flags & image::kRegionExternal) {
    char where[64];
    std::snprintf(where, sizeof where, "0x%" PRIx64 "-0x%" PRIx64, r.rec.start, r.rec.end);
    throw RestartError("image " + img.path() + ": memory " + where + (r.path.empty() ? "" : " (" + r.path + ")") +
                       " was saved by a plugin, and no restart kind restores it (a plugin missing here?)");
  }
  return false;
}

void ProcessRestore::prepare(const ImageReader& img, const RestoreSettings& settings, const RestartContext& ctx,
                             size_t process) {
  const image::ProcessRecord& proc = img.process();
  // ckpt_restart's own mappings: a few dozen. (A vector of 65,536 entries of
  // 4 KiB each, zeroed, cost every restored process some 100 ms.)
  std::vector<MapEntry> current(256);
  long n;
  while ((n = read_proc_maps(0, current.data(), current.size())) == -ENOSPC && current.size() < image::kMaxRegions)
    current.resize(current.size() * 4);
  if (n < 0) throw RestartError("cannot read /proc/self/maps");
  current.resize(n);

  std::vector<ckpt_restore_region> regions;
  std::vector<ckpt_restore_thread> threads;
  std::vector<ckpt_special_move> specials;
  plan_specials(img, current, specials);
  std::vector<Range> used;
  for (const MapEntry& m : current) used.push_back({m.start, m.end});
  for (const Region& r : img.regions()) used.push_back({r.rec.start, r.rec.end});

  // Room to stage saved bytes, and regions a kind may map itself (external
  // ones); a few pages too many is harmless (MAP_NORESERVE).
  uint64_t staged = 0;
  for (const Region& r : img.regions())
    if (((r.rec.flags & image::kRegionExternal) ||
         !(r.rec.flags & (image::kRegionNoData | image::kRegionVdso))) &&
        !is_remapped_file(r, settings.paths))
      staged += r.rec.end - r.rec.start;
  uint64_t extent_count = 0;
  for (const Region& r : img.regions()) extent_count += r.extents.size() + r.inherited.size();
  size_t thread_count = img.threads().size();
  size_t region_count = img.regions().size();
  uint64_t blob_size = page_up(ckpt_restorer_blob_end - ckpt_restorer_blob);
  uint64_t args_size = page_up(sizeof(ckpt_restore_args) + region_count * sizeof(ckpt_restore_region) +
                               thread_count * sizeof(ckpt_restore_thread) + 8 * sizeof(ckpt_special_move) +
                               (region_count + 8) * sizeof(int32_t) + extent_count * sizeof(ckpt_restore_extent) +
                               16 * region_count + 64 + (region_count + 9) * sizeof(ckpt_kept_range));
  uint64_t hole_size = blob_size + args_size + thread_count * kThreadStack + kMainStack + kParking;
  uint64_t base = find_hole(used, hole_size + staged);
  if (!base) throw RestartError("image " + img.path() + ": no free address range for the restorer next to the saved layout");
  void* reserved = mmap(reinterpret_cast<void*>(base), hole_size + staged, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (reserved == MAP_FAILED) throw RestartError("cannot reserve the restore area: " + errno_text());
  uint64_t hole = base, hole_end = base + hole_size;
  if (mprotect(reinterpret_cast<void*>(hole), hole_size, PROT_READ | PROT_WRITE) != 0)
    throw RestartError("cannot prepare the restore area: " + errno_text());

  // Lazy restart: the page server starts before anything is staged (it is
  // a fork of this process).
  std::vector<const Region*> lazy_regions;
  if (settings.lazy)
    for (const Region& r : img.regions())
      if (loads_lazily(img, r)) lazy_regions.push_back(&r);
  int32_t uffd = -1;
  if (!lazy_regions.empty()) {
    LazyServer server = start_lazy_server(img, lazy_regions);
    uffd = lift_fd(server.uffd, settings.fd_floor, "the userfaultfd");
    close(server.uffd);
    restorer_fds_.push_back(uffd);
    lazy_fd_ = lift_fd(server.app_fd, settings.fd_floor, "the lazy page server's socket");
    close(server.app_fd);
  }

  std::vector<std::pair<const Region*, uint64_t>> jobs;
  uint64_t stage_at = hole_end;
  std::map<std::string, int32_t> backing_fds;  // by saved path: each file opened once
  // Per region with an overlay, its extents; regions[i].extents points into
  // the copy placed in the hole.
  std::vector<std::vector<ckpt_restore_extent>> extents;
  bool lazy = false;  // some pages come from the page server after the process runs
  for (const Region& r : img.regions()) {
    if (r.rec.flags & image::kRegionVdso) continue;
    ckpt_restore_region out{};
    out.start = r.rec.start;
    out.end = r.rec.end;
    out.prot = r.rec.prot;
    out.map_flags = (r.rec.flags & image::kRegionShared) ? MAP_SHARED : MAP_PRIVATE;
    uint64_t len = r.rec.end - r.rec.start;
    RegionSource from_kind;
    if ((r.rec.flags & image::kRegionShared) && kind_source(img, r, ctx, process, stage_at, from_kind)) {
      if (from_kind.staged) {
        out.source = CKPT_SRC_STAGED;
        out.src_addr = stage_at;
        stage_at += len;
      } else {
        out.source = CKPT_SRC_FILE;
        out.fd = lift_fd(from_kind.fd, settings.fd_floor, "shared memory");
        out.file_offset = from_kind.offset;
        restorer_fds_.push_back(out.fd);
      }
    } else if (r.rec.flags & image::kRegionExternal) {
      kind_source(img, r, ctx, process, stage_at, from_kind);  // throws: nobody restores it
    } else if (is_remapped_file(r, settings.paths)) {
      std::string path = settings.paths ? settings.paths->apply(r.path) : r.path;
      int fd = open(path.c_str(), ((r.rec.prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
      if (fd < 0) throw RestartError("image " + img.path() + ": cannot open mapped file " + path + ": " + errno_text());
      out.source = CKPT_SRC_FILE;
      out.fd = lift_fd(fd, settings.fd_floor, path);
      close(fd);
      out.file_offset = r.rec.file_offset;
      restorer_fds_.push_back(out.fd);
    } else if (r.rec.flags & image::kRegionNoData) {
      out.source = CKPT_SRC_ANON;
    } else {
      // Private memory (or shared anonymous memory, staged): the pages not
      // stored come from the file (kRegionFileBacked) or are zero, the
      // stored ones are laid over them.
      if (r.rec.flags & image::kRegionFileBacked) {
        auto it = backing_fds.find(r.path);
        if (it == backing_fds.end()) {
          int fd = open_backing_file(img, r, settings.paths);
          int32_t high = lift_fd(fd, settings.fd_floor, r.path);
          close(fd);
          restorer_fds_.push_back(high);
          it = backing_fds.emplace(r.path, high).first;
        }
        out.source = CKPT_SRC_FILE;
        out.fd = it->second;
        out.file_offset = r.rec.file_offset;
      } else if (settings.lazy && loads_lazily(img, r)) {
        out.source = CKPT_SRC_ANON;
        out.lazy = 1;
        lazy = true;
      } else {
        int flags = (r.rec.flags & image::kRegionShared) ? MAP_SHARED : MAP_PRIVATE;
        if (mmap(reinterpret_cast<void*>(stage_at), len, PROT_READ | PROT_WRITE,
                 flags | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
          throw RestartError("cannot map staging memory: " + errno_text());
        out.source = (r.rec.flags & image::kRegionStack) ? CKPT_SRC_STACK : CKPT_SRC_STAGED;
        out.src_addr = stage_at;
        jobs.emplace_back(&r, stage_at);
        stage_at += len;
      }
      if ((r.rec.stored_size || !r.inherited.empty()) && out.source != CKPT_SRC_STAGED &&
          out.source != CKPT_SRC_STACK && !out.lazy) {
        std::vector<ckpt_restore_extent>& ext = extents.emplace_back();
        // Stored and inherited pages alike are read into staging memory and
        // copied over the file's (or zero) pages.
        for (const image::PageExtent& e : r.extents) ext.push_back({e.offset, e.size});
        for (const image::PageExtent& e : r.inherited) ext.push_back({e.offset, e.size});
        std::sort(ext.begin(), ext.end(),
                  [](const ckpt_restore_extent& a, const ckpt_restore_extent& b) { return a.offset < b.offset; });
        out.extent_count = ext.size();
        if (mmap(reinterpret_cast<void*>(stage_at), len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
          throw RestartError("cannot map staging memory: " + errno_text());
        out.overlay = CKPT_OVERLAY_COPY;
        out.src_addr = stage_at;
        jobs.emplace_back(&r, stage_at);
        stage_at += len;
      }
    }
    regions.push_back(out);
  }
  stage_regions(img, jobs);
  grow_fd_table();

  // ---- the hole: blob | args and arrays | thread stacks | main stack | parking ----
  char* blob = reinterpret_cast<char*>(hole);
  std::memcpy(blob, ckpt_restorer_blob, ckpt_restorer_blob_end - ckpt_restorer_blob);
  char* cursor = blob + blob_size;
  auto* args = reinterpret_cast<ckpt_restore_args*>(cursor);
  cursor += sizeof(ckpt_restore_args);
  auto place = [&](auto* out, const auto& vec) {
    using T = std::remove_pointer_t<decltype(out)>;
    cursor = reinterpret_cast<char*>((reinterpret_cast<uint64_t>(cursor) + 15) & ~15ull);
    T* dst = reinterpret_cast<T*>(cursor);
    std::memcpy(dst, vec.data(), vec.size() * sizeof(T));
    cursor += vec.size() * sizeof(T);
    return dst;
  };
  uint64_t stacks = hole + blob_size + args_size;
  for (size_t i = 0; i < thread_count; ++i) {
    threads.push_back(thread_of(img.threads()[i]));
    threads.back().stack_top = stacks + (i + 1) * kThreadStack;
  }
  std::memset(args, 0, sizeof *args);
  args->hole_start = hole;
  args->hole_end = hole_end;
  args->restart_info_slot = proc.restart_info_slot;
  const ckpt_mm_layout own = own_mm_layout();
  image::LayoutSection saved{};
  args->exe_fd = -1;
  if (proc.brk && can_set_mm_layout()) {
    args->set_layout = 1;
    if (saved_layout(img, saved)) {
      // The program's own layout: its break, and its argument and
      // environment strings for /proc/PID/cmdline and environ.
      args->layout = {saved.start_code, saved.end_code, saved.start_data, saved.end_data, saved.start_brk, saved.brk,
                      saved.start_stack, saved.arg_start, saved.arg_end, saved.env_start, saved.env_end};
    } else {
      // Our layout with the saved break. With address randomization off,
      // the kernel lets the break go no lower than end_data rather than
      // start_brk: keep our data segment from standing above the saved heap.
      args->layout = own;
      args->layout.start_brk = saved_heap_start(img);
      args->layout.brk = proc.brk;
      if (args->layout.end_data > args->layout.start_brk)
        args->layout.start_data = args->layout.end_data = args->layout.start_brk;
    }
    // /proc/self/exe names the program again where we may set it.
    std::string exe = settings.paths ? settings.paths->apply(proc.exe) : std::string(proc.exe);
    int fd = proc.exe[0] == '/' ? open(exe.c_str(), O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
      args->exe_fd = lift_fd(fd, settings.fd_floor, exe);
      close(fd);
      restorer_fds_.push_back(args->exe_fd);
    }
  } else {
    args->start_brk = own.start_brk;
    // The break can only climb above our start_brk (see
    // ensure_brk_below_heaps in ckpt_restart.cpp): otherwise leave it alone.
    args->saved_brk = proc.brk && saved_heap_start(img) >= args->start_brk ? proc.brk : 0;
  }
  // What the restorer's sweep keeps, sorted and merged here: its own scan
  // of every region for each gap was quadratic (a restart of 65,536
  // mappings spent most of its 50 s in it).
  std::vector<ckpt_kept_range> kept{{hole, hole_end}};
  for (const ckpt_restore_region& r : regions)
    if (r.source == CKPT_SRC_STAGED || r.source == CKPT_SRC_STACK || r.overlay == CKPT_OVERLAY_COPY)
      kept.push_back({r.src_addr, r.src_addr + (r.end - r.start)});
  for (const ckpt_special_move& m : specials) kept.push_back({m.saved_start, m.saved_start + (m.cur_end - m.cur_start)});
  std::erase_if(kept, [](const ckpt_kept_range& k) { return k.start >= k.end; });
  std::sort(kept.begin(), kept.end(), [](const ckpt_kept_range& x, const ckpt_kept_range& y) { return x.start < y.start; });
  size_t merged = 0;
  for (const ckpt_kept_range& k : kept) {
    if (merged > 0 && k.start <= kept[merged - 1].end) kept[merged - 1].end = std::max(kept[merged - 1].end, k.end);
    else kept[merged++] = k;
  }
  kept.resize(merged);
  args->kept_count = static_cast<uint32_t>(kept.size());
  args->kept = place(static_cast<ckpt_kept_range*>(nullptr), kept);
  args->region_count = regions.size();
  args->thread_count = threads.size();
  args->special_count = specials.size();
  args->close_fd_count = restorer_fds_.size();
  args->use_set_tid = settings.restore_pids;
  size_t with_overlay = 0;
  for (ckpt_restore_region& out : regions)
    if (out.overlay != CKPT_OVERLAY_NONE) out.extents = place(static_cast<ckpt_restore_extent*>(nullptr), extents[with_overlay++]);
  args->regions = place(static_cast<ckpt_restore_region*>(nullptr), regions);
  args->threads = place(static_cast<ckpt_restore_thread*>(nullptr), threads);
  args->specials = place(static_cast<ckpt_special_move*>(nullptr), specials);
  args->close_fds = place(static_cast<int32_t*>(nullptr), restorer_fds_);
  args->info.hole_start = hole;
  args->info.hole_end = hole_end;
  args->info.thread_count = static_cast<int32_t>(threads.size());
  args->info.threads = args->threads;
  args->info.coord_port = settings.coord_port;
  static_assert(sizeof args->info.secret == sizeof settings.secret.bytes);
  std::memcpy(args->info.secret, settings.secret.bytes, sizeof args->info.secret);
  std::snprintf(args->info.coord_host, sizeof args->info.coord_host, "%s", settings.coord_host.c_str());
  std::snprintf(args->info.ckptdir, sizeof args->info.ckptdir, "%s", settings.ckptdir.c_str());
  std::snprintf(args->info.host_name, sizeof args->info.host_name, "%s", settings.host_name.c_str());
  std::snprintf(args->info.secret_file, sizeof args->info.secret_file, "%s", settings.secret_file.c_str());
  std::snprintf(args->info.tmpdir, sizeof args->info.tmpdir, "%s", settings.tmpdir.c_str());
  std::snprintf(args->info.env_file, sizeof args->info.env_file, "%s", settings.env_file.c_str());
  args->info.modify_env = settings.modify_env;
  args->info.path_map_set = settings.path_map.has_value();
  std::snprintf(args->info.path_map, sizeof args->info.path_map, "%s", settings.path_map.value_or("").c_str());
  args->info.lazy_pages = lazy;
  args->info.lazy_fd = lazy_fd_;
  args->uffd = uffd;
  args->info.restart_started_ns = settings.started_ns;
  if (mprotect(blob, blob_size, PROT_READ | PROT_EXEC) != 0)
    throw RestartError("cannot make the restorer executable: " + errno_text());
  args_ = args;
  entry_ = hole;
  stack_top_ = stacks + thread_count * kThreadStack + kMainStack - 64;
  personality_ = settings.personality;
}

std::vector<int32_t> ProcessRestore::kept_fds() const {
  std::vector<int32_t> out = restorer_fds_;
  if (lazy_fd_ >= 0) out.push_back(lazy_fd_);
  return out;
}

void ProcessRestore::enter(bool pids_restored) {
  args_->info.pids_restored = pids_restored;
  // Randomization is the restored program's business again (for its execs).
  syscall(SYS_personality, personality_);
  // A root restart that became the images' user (ckpt_restart.cpp) left this
  // process undumpable: no core dumps, and its own user could not read its
  // /proc/PID files. What is left of ckpt_restart's memory goes in the swap.
  syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0);
  sigset_t all;
  sigfillset(&all);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, 8);
  // This process's own rseq area is about to be unmapped; the kernel would
  // kill us writing to it. The restored threads register theirs.
  if (__rseq_size > 0)
    syscall(SYS_rseq, static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset,
            __rseq_size < 32 ? 32 : __rseq_size, RSEQ_FLAG_UNREGISTER, 0x53053053);
  __asm__ volatile(
      "movq %0, %%rsp\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "movq %1, %%rdi\n\t"
      "callq *%2\n\t"
      "ud2\n\t"
      :
      : "r"(stack_top_), "r"(args_), "r"(entry_)
      : "memory");
  __builtin_unreachable();
}

}  // namespace ckpt
