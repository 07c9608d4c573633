// The shm kind's checkpoint side (issue 10): shared memory whose bytes live
// in the kernel (anonymous shared memory inherited across fork, /dev/zero,
// memfd, /dev/shm files, removed files), and memfd descriptors.
//
// Such memory is written by other processes as soon as they resume, while
// this process's image is still being written in the background: its bytes
// are copied at DRAIN, when every process of the computation is frozen, and
// the image takes them from the copy (ckpt_save_region_bytes). Each range is
// copied once for the computation: by the process with the lowest virtual pid
// among those whose mapping covers it (every process shares what it maps at
// PRE_CHECKPOINT). Restart (shm_restart.cpp) makes each object once and maps
// it into every process that had it.
//
// Everything here runs while the application's threads are frozen: raw
// system calls and mmap'd buffers only (ckpt/frozen_io.h).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "image_format.h"
#include "proc_maps.h"
#include "shm_section.h"

#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif

namespace ckpt::shm {
namespace {

constexpr char kShareName[] = "shm";
// The memfd a restart makes for anonymous shared memory: named so that the
// next checkpoint still calls it anonymous.
constexpr char kAnonymousMemfdPath[] = "/memfd:" CKPT_ANONYMOUS_SHARED_MEMFD;

// What each process tells the others at PRE_CHECKPOINT (ckpt_share), one per
// mapping or descriptor.
struct Share {
  uint8_t boot_id[16];
  int32_t vpid;
  uint32_t is_fd;     // a memfd descriptor (range: the whole file), not a mapping
  uint32_t readable;  // a mapping whose bytes its process can copy
  uint32_t reserved;
  uint64_t dev, ino;
  uint64_t offset, length;  // the range of the object
};

struct Own {
  uint64_t start, end, offset;
  uint32_t object;
  uint32_t readable;
};

struct Range {
  uint64_t from, to;
};

struct State {
  uint8_t boot_id[16];
  pid_t vpid;
  MappedArray<ShmObject> objects;
  MappedArray<Own> mappings;
  MappedArray<ShmFd> fds;
  MappedArray<Share> shares;  // PRE_CHECKPOINT: ours; DRAIN: everyone's
  char* copy = nullptr;       // the bytes this process saves, until RESUME
  size_t copy_len = 0;

  void release() {
    objects.release();
    mappings.release();
    fds.release();
    shares.release();
  }
};

State g_state;

uint64_t dev_of(uint32_t major_no, uint32_t minor_no) { return uint64_t{major_no} << 32 | minor_no; }

bool starts_with(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

// The pid table (plugins/pid, "ckpt-*.pids") and the System V id table
// (plugins/sysv, "ckpt-*.sysv") are libckpt's own; their restarts make new ones.
bool is_libckpt_table(const char* path) {
  const char* base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  return starts_with(base, "ckpt-") && len > 5 && (strcmp(base + len - 5, ".pids") == 0 || strcmp(base + len - 5, ".sysv") == 0);
}

// Shared mappings whose bytes live in the kernel rather than in a file that
// a restart can map again. SysV segments ("/SYSV...") belong to their own kind.
bool kernel_shared(const MapEntry& m, ShmKind& kind) {
  if (!m.shared || starts_with(m.path, "/SYSV") || is_libckpt_table(m.path)) return false;
  if (m.path[0] == '\0' || starts_with(m.path, "[anon_shmem:") || (starts_with(m.path, "/dev/zero") && m.path_deleted) ||
      starts_with(m.path, kAnonymousMemfdPath))
    kind = ShmKind::Anonymous;
  else if (starts_with(m.path, "/memfd:") && m.path_deleted) kind = ShmKind::Memfd;
  else if (starts_with(m.path, "/dev/shm/") && !m.path_deleted) kind = ShmKind::PosixShm;
  else if (m.path_deleted && m.path[0] == '/') kind = ShmKind::Deleted;
  else return false;
  return true;
}

void name_of(ShmKind kind, const char* path, char (&out)[256]) {
  const char* name = kind == ShmKind::Memfd ? path + strlen("/memfd:") : kind == ShmKind::Anonymous ? "" : path;
  size_t len = strnlen(name, sizeof out - 1);
  memcpy(out, name, len);
  out[len] = '\0';
}

// The index of object (dev, ino), added if new.
long object_index(uint64_t dev, uint64_t ino, ShmKind kind, const char* path) {
  for (size_t i = 0; i < g_state.objects.size(); ++i)
    if (g_state.objects[i].dev == dev && g_state.objects[i].ino == ino) return static_cast<long>(i);
  ShmObject o{};
  o.dev = dev;
  o.ino = ino;
  o.kind = kind;
  name_of(kind, path, o.name);
  if (!g_state.objects.push(o)) return -1;
  return static_cast<long>(g_state.objects.size() - 1);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool read_boot_id(uint8_t (&out)[16]) {
  char text[64];
  if (read_small_file("/proc/sys/kernel/random/boot_id", text, sizeof text) <= 0) return false;
  int n = 0;
  for (const char* p = text; *p && n < 32; ++p) {
    int v = hex_value(*p);
    if (v < 0) continue;
    if (n % 2 == 0) out[n / 2] = static_cast<uint8_t>(v << 4);
    else out[n / 2] |= static_cast<uint8_t>(v);
    ++n;
  }
  return n == 32;
}

void fail(const char* what, long error) {
  ShortText text;
  text.add("shared memory: ").add(what).add(" (error ").dec(-error).add(")");
  ckpt_fail_checkpoint(text.c_str());
}

bool add_mappings() {
  const size_t bytes = image::kMaxRegions * sizeof(MapEntry);
  long buf = raw_syscall(SYS_mmap, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (buf < 0 && buf > -4096) {
    fail("cannot map memory for the region list", buf);
    return false;
  }
  auto* maps = reinterpret_cast<MapEntry*>(buf);
  long count = read_proc_maps(0, maps, image::kMaxRegions);
  bool ok = count >= 0;
  if (!ok) fail("cannot read /proc/self/maps", count);
  for (long i = 0; ok && i < count; ++i) {
    const MapEntry& m = maps[i];
    ShmKind kind;
    if (!kernel_shared(m, kind)) continue;
    const uint64_t dev = dev_of(m.dev_major, m.dev_minor), len = m.end - m.start;
    long object = object_index(dev, m.inode, kind, m.path);
    const uint32_t readable = (m.prot & PROT_READ) ? 1 : 0;
    Share s{};
    memcpy(s.boot_id, g_state.boot_id, sizeof s.boot_id);
    s.vpid = g_state.vpid;
    s.readable = readable;
    s.dev = dev;
    s.ino = m.inode;
    s.offset = m.offset;
    s.length = len;
    ok = object >= 0 && g_state.mappings.push({m.start, m.end, m.offset, static_cast<uint32_t>(object), readable}) &&
         g_state.shares.push(s);
    if (ok && g_state.objects[object].size < m.offset + len) g_state.objects[object].size = m.offset + len;
    if (!ok) fail("out of memory listing the mappings", -ENOMEM);
  }
  raw_syscall(SYS_munmap, buf, bytes);
  return ok;
}

// memfd descriptors: claimed here (the descriptor kind would save a copy of
// the file, a second object after a restart).
bool add_descriptors() {
  MappedArray<int> fds;
  if (list_fds(0, fds) < 0) return true;  // the descriptor kind reports what it cannot list
  bool ok = true;
  for (size_t i = 0; ok && i < fds.size(); ++i) {
    const int fd = fds[i];
    if (ckpt_is_protected_fd(fd) || ckpt_fd_claimed(fd)) continue;
    char path[300];
    if (read_link(proc_path(0, "fd", fd).c_str(), path, sizeof path) <= 0 || !starts_with(path, "/memfd:")) continue;
    struct stat st;
    if (raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) < 0 || !S_ISREG(st.st_mode)) continue;
    char* deleted = strstr(path, " (deleted)");
    if (deleted) *deleted = '\0';
    const uint64_t dev = dev_of(major(st.st_dev), minor(st.st_dev));
    const ShmKind kind = starts_with(path, kAnonymousMemfdPath) ? ShmKind::Anonymous : ShmKind::Memfd;
    long object = object_index(dev, st.st_ino, kind, path);
    if (object < 0) break;
    ShmObject& o = g_state.objects[object];
    if (o.size < static_cast<uint64_t>(st.st_size)) o.size = static_cast<uint64_t>(st.st_size);
    long seals = raw_syscall(SYS_fcntl, fd, F_GET_SEALS);
    if (seals > 0) o.seals = static_cast<uint32_t>(seals);
    ShmFd rec{};
    rec.fd = fd;
    rec.fd_flags = static_cast<uint32_t>(raw_syscall(SYS_fcntl, fd, F_GETFD));
    rec.status_flags = static_cast<uint32_t>(raw_syscall(SYS_fcntl, fd, F_GETFL));
    rec.object = static_cast<uint32_t>(object);
    rec.position = raw_syscall(SYS_lseek, fd, 0, SEEK_CUR);
    Share s{};
    memcpy(s.boot_id, g_state.boot_id, sizeof s.boot_id);
    s.vpid = g_state.vpid;
    s.is_fd = 1;
    s.dev = dev;
    s.ino = st.st_ino;
    s.length = static_cast<uint64_t>(st.st_size);
    ok = ckpt_claim_fd(fd) == 0 && g_state.fds.push(rec) && g_state.shares.push(s);
  }
  fds.release();
  if (!ok) fail("out of memory listing memfd descriptors", -ENOMEM);
  return ok;
}

void pre_checkpoint() {
  g_state.release();
  g_state.vpid = ckpt_virtual_pid(static_cast<pid_t>(raw_syscall(SYS_getpid)));
  if (!read_boot_id(g_state.boot_id)) memset(g_state.boot_id, 0, sizeof g_state.boot_id);
  if (!add_mappings() || !add_descriptors()) return;
  if (g_state.shares.size() > 0 &&
      ckpt_share(kShareName, g_state.shares.data(), g_state.shares.size() * sizeof(Share)) != 0)
    ckpt_fail_checkpoint("shared memory: too many shared mappings to list (the coordinator carries 1 MiB)");
  g_state.shares.clear();
}

int gather(const void* data, size_t len, void*) {
  const auto* s = static_cast<const Share*>(data);
  for (size_t i = 0; i < len / sizeof(Share); ++i)
    if (!g_state.shares.push(s[i])) return 1;
  return 0;
}

bool same_object(const Share& s, const ShmObject& o) {
  return memcmp(s.boot_id, g_state.boot_id, sizeof s.boot_id) == 0 && s.dev == o.dev && s.ino == o.ino;
}

// Whether another process saves the bytes of `m`: one with a lower virtual
// pid maps a range of the same object that covers it, readably.
bool saved_elsewhere(const Own& m) {
  const ShmObject& o = g_state.objects[m.object];
  const uint64_t len = m.end - m.start;
  for (size_t i = 0; i < g_state.shares.size(); ++i) {
    const Share& s = g_state.shares[i];
    if (!s.is_fd && s.readable && s.vpid < g_state.vpid && same_object(s, o) && s.offset <= m.offset &&
        s.offset + s.length >= m.offset + len)
      return true;
  }
  return false;
}

// Whether this process saves the bytes of `object` that no process maps:
// the descriptor holder with the lowest virtual pid.
bool saves_unmapped(uint32_t object) {
  const ShmObject& o = g_state.objects[object];
  for (size_t i = 0; i < g_state.shares.size(); ++i) {
    const Share& s = g_state.shares[i];
    if (s.is_fd && s.vpid < g_state.vpid && same_object(s, o)) return false;
  }
  return true;
}

// The parts of [0, size) of `object` that no readable mapping in the
// computation covers, read from descriptor `fd` into `data`.
bool save_unmapped(uint32_t object, int fd, MappedArray<ShmExtent>& extents, MappedBuffer& data) {
  const ShmObject& o = g_state.objects[object];
  MappedArray<Range> mapped;
  for (size_t i = 0; i < g_state.shares.size(); ++i) {
    const Share& s = g_state.shares[i];
    if (!s.is_fd && s.readable && same_object(s, o) && !mapped.push({s.offset, s.offset + s.length})) return false;
  }
  // Insertion sort: a handful of ranges.
  for (size_t i = 1; i < mapped.size(); ++i)
    for (size_t j = i; j > 0 && mapped[j].from < mapped[j - 1].from; --j) {
      Range t = mapped[j];
      mapped[j] = mapped[j - 1];
      mapped[j - 1] = t;
    }
  bool ok = true;
  uint64_t at = 0;
  auto save = [&](uint64_t from, uint64_t to) {
    if (from >= to) return;
    ShmExtent e{};
    e.object = object;
    e.offset = from;
    e.length = to - from;
    e.data_offset = data.size();
    char* dst = data.grow_for(e.length);
    if (!dst) {
      ok = false;
      return;
    }
    long got = raw_syscall(SYS_pread64, fd, reinterpret_cast<long>(dst), static_cast<long>(e.length),
                           static_cast<long>(from));
    if (got != static_cast<long>(e.length)) {
      fail("cannot read a memfd", got < 0 ? got : -EIO);
      ok = false;
      return;
    }
    data.commit(e.length);
    ok = extents.push(e);
  };
  for (size_t i = 0; ok && i < mapped.size(); ++i) {
    save(at, mapped[i].from < o.size ? mapped[i].from : o.size);
    if (mapped[i].to > at) at = mapped[i].to;
  }
  if (ok) save(at, o.size);
  mapped.release();
  return ok;
}

// Copies the ranges this process saves and claims every mapping.
bool claim_mappings() {
  size_t total = 0;
  for (size_t i = 0; i < g_state.mappings.size(); ++i) {
    Own& m = g_state.mappings[i];
    if (m.readable && !saved_elsewhere(m)) total += m.end - m.start;
    else m.readable = 0;  // from here: 1 = this process saves it
  }
  if (total > 0) {
    long p = raw_syscall(SYS_mmap, 0, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p < 0 && p > -4096) {
      fail("cannot map memory for a copy of the shared memory", p);
      return false;
    }
    g_state.copy = reinterpret_cast<char*>(p);
    g_state.copy_len = total;
  }
  size_t at = 0;
  for (size_t i = 0; i < g_state.mappings.size(); ++i) {
    const Own& m = g_state.mappings[i];
    const size_t len = m.end - m.start;
    const char* copy = nullptr;
    if (m.readable) {
      memcpy(g_state.copy + at, reinterpret_cast<const void*>(m.start), len);
      copy = g_state.copy + at;
      at += len;
    }
    if (ckpt_save_region_bytes(reinterpret_cast<const void*>(m.start), len, copy) != 0) return false;
  }
  return true;
}

// A memfd's size, seals and the offset of a description shared across fork
// move while other processes of the computation still run after our
// PRE_CHECKPOINT; at DRAIN every process is frozen, so they are read again
// here. (A size read at PRE_CHECKPOINT once left out records another process
// appended before it froze, while the count of them, in shared memory copied
// at DRAIN, included them.)
void refresh_descriptors() {
  for (size_t i = 0; i < g_state.fds.size(); ++i) {
    ShmFd& f = g_state.fds[i];
    struct stat st;
    if (raw_syscall(SYS_fstat, f.fd, reinterpret_cast<long>(&st)) < 0) continue;
    ShmObject& o = g_state.objects[f.object];
    o.size = static_cast<uint64_t>(st.st_size);  // it may have shrunk too
    for (size_t j = 0; j < g_state.mappings.size(); ++j) {
      const Own& m = g_state.mappings[j];
      if (m.object == f.object && o.size < m.offset + (m.end - m.start)) o.size = m.offset + (m.end - m.start);
    }
    long seals = raw_syscall(SYS_fcntl, f.fd, F_GET_SEALS);
    if (seals > 0) o.seals = static_cast<uint32_t>(seals);
    f.position = raw_syscall(SYS_lseek, f.fd, 0, SEEK_CUR);
  }
}

void drain() {
  if (g_state.mappings.size() == 0 && g_state.fds.size() == 0) return;
  refresh_descriptors();
  ckpt_for_each_shared(kShareName, gather, nullptr);
  if (!claim_mappings()) return;
  MappedArray<ShmExtent> extents;
  MappedBuffer data;
  bool ok = true;
  for (size_t i = 0; ok && i < g_state.fds.size(); ++i) {
    const ShmFd& f = g_state.fds[i];
    bool first = true;  // one descriptor per object does it
    for (size_t j = 0; j < i; ++j) first = first && g_state.fds[j].object != f.object;
    if (first && saves_unmapped(f.object)) ok = save_unmapped(f.object, f.fd, extents, data);
  }
  if (!ok) {
    fail("out of memory saving memfd contents", -ENOMEM);
  } else {
    ShmSectionHeader h{};
    h.version = kShmSectionVersion;
    h.object_count = static_cast<uint32_t>(g_state.objects.size());
    h.mapping_count = static_cast<uint32_t>(g_state.mappings.size());
    h.fd_count = static_cast<uint32_t>(g_state.fds.size());
    h.extent_count = static_cast<uint32_t>(extents.size());
    h.data_bytes = data.size();
    memcpy(h.boot_id, g_state.boot_id, sizeof h.boot_id);
    MappedBuffer section;
    ok = section.append(&h, sizeof h) != MappedBuffer::kFailed &&
         section.append(g_state.objects.data(), g_state.objects.size() * sizeof(ShmObject)) != MappedBuffer::kFailed;
    for (size_t i = 0; ok && i < g_state.mappings.size(); ++i) {
      const Own& m = g_state.mappings[i];
      ShmMapping rec{m.start, m.end, m.offset, m.object, m.readable};
      ok = section.append(&rec, sizeof rec) != MappedBuffer::kFailed;
    }
    ok = ok && section.append(g_state.fds.data(), g_state.fds.size() * sizeof(ShmFd)) != MappedBuffer::kFailed &&
         section.append(extents.data(), extents.size() * sizeof(ShmExtent)) != MappedBuffer::kFailed &&
         section.append(data.data(), data.size()) != MappedBuffer::kFailed;
    if (!ok) fail("out of memory building the section", -ENOMEM);
    else ckpt_save_section(kShmSection, section.data(), section.size());
    section.release();
  }
  extents.release();
  data.release();
  g_state.release();
}

void resume() {
  if (g_state.copy) raw_syscall(SYS_munmap, reinterpret_cast<long>(g_state.copy), g_state.copy_len);
  g_state.copy = nullptr;
  g_state.copy_len = 0;
  g_state.release();
}

void shm_event(ckpt_event_t event, void*) {
  switch (event) {
    case CKPT_EVENT_PRE_CHECKPOINT: pre_checkpoint(); break;
    case CKPT_EVENT_DRAIN: drain(); break;
    case CKPT_EVENT_RESUME: resume(); break;
    default: break;
  }
}

const ckpt_plugin g_plugin = {"shm", shm_event};

__attribute__((constructor(202))) void register_shm_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
}  // namespace ckpt::shm
