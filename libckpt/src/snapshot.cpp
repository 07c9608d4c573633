// The snapshot child: a copy-on-write copy of the process (taken while every
// user thread was parked) that writes the image and exits. Only raw system
// calls and the async-signal-safe image writer run here: the frozen threads'
// locks are frozen in this copy too.
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/raw_syscall.h"
#include "core.h"
#include "image_writer.h"
#include "layout_section.h"
#include "log.h"
#include "proc_maps.h"

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

void fill_process_record(image::ProcessRecord& p, const SnapshotRequest& req, pid_t parent_pid) {
  p.real_pid = parent_pid;
  p.virt_pid = ckpt_virtual_pid(parent_pid);
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

bool write_snapshot(const SnapshotRequest& req, char* error, size_t error_len, char* warnings, size_t warnings_len) {
  size_t warned = 0;
  warnings[0] = '\0';
  // The child's own parent is the process being checkpointed.
  pid_t parent_pid = static_cast<pid_t>(sys(SYS_getppid));
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
  if (!writer.open(req.image_path, req.compress)) {
    format_to(error, error_len, "%s", writer.error());
    return false;
  }
  auto failed = [&]() {
    format_to(error, error_len, "%s", writer.error());
    writer.abort();
    return false;
  };

  static image::ProcessRecord process;
  memset(&process, 0, sizeof process);
  fill_process_record(process, req, parent_pid);

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

  const RegionClaim* claims = nullptr;
  const int claim_count = region_claims(&claims);
  for (long i = 0; i < count; ++i) {
    const MapEntry& m = maps[i];
    if (m.start == reinterpret_cast<uint64_t>(buf)) continue;
    if (!strcmp(m.path, "[vsyscall]")) continue;  // fixed by the kernel, above user space
    if (is_claim_copy(m, claims, claim_count)) continue;
    image::RegionRecord r = region_of(m);
    const void* data = reinterpret_cast<const void*>(m.start);
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
    // A file's pages past its end fault (the writer saves them as zeros):
    // ld.so maps a library's whole span from a shorter file before it maps
    // the segments over it, and a checkpoint may land in between.
    const auto source = (r.flags & image::kRegionFile) ? image::ImageWriter::Source::FileMapping
                                                       : image::ImageWriter::Source::Memory;
    if (!writer.add_region(r, m.path, data, source)) return failed();
  }
  if (!writer.commit()) {
    format_to(error, error_len, "%s", writer.error());
    return false;
  }
  return true;
}

}  // namespace ckpt
