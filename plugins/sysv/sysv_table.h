// The shared System V id table of a computation: for every SysV object the
// computation uses, the id the application knows (virtual) and the kernel's
// (real), its key, and the SEM_UNDO adjustments each process holds.
//
// One file (tmpfs: /dev/shm, else $TMPDIR or /tmp) mapped MAP_SHARED by every
// process, as the pid table is (plugins/pid/pid_table.h): fork inherits the
// mapping, an exec'ed process reopens it from $CKPT_SYSVTABLE, and
// ckpt_restart writes a new file with the new real ids that the restorer maps
// where the old one was. Raw system calls only, no allocation: the wrappers,
// the checkpoint thread and ckpt_restart all use it.
//
// A virtual id is the real id the object had when the computation first met
// it; after a restart the real id changes and the virtual one stays. An id
// the table does not know maps to itself.
//
// Changes take a spin lock in the file. The wrappers hold it only inside
// ckpt_delay_checkpoints(), so no thread frozen by a checkpoint holds it, and
// the checkpoint thread may take it while the others are frozen. Lookups
// read without it.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <atomic>

#include "ckpt/proc_dir.h"
#include "ckpt/raw_syscall.h"
#include "sysv_section.h"

namespace ckpt::sysv {

inline constexpr uint64_t kSysvTableMagic = 0x4c42545653504b43ull;  // "CKPSVTBL" little-endian
inline constexpr uint32_t kSysvTableVersion = 1;
inline constexpr char kSysvTableSuffix[] = ".sysv";

// Object flags.
// The object's key was held by another program at restart: the kernel object
// was made IPC_PRIVATE, and xxxget(key) is answered from this table.
inline constexpr uint32_t kKeyElsewhere = 1u << 0;
// A segment that was marked IPC_RMID while attached: ckpt_restart makes it
// without the mark (it must survive until every process attached it again);
// the saver marks it again at the RESUME that follows the restart.
inline constexpr uint32_t kRemoveAfterRestart = 1u << 1;

struct SysvObject {
  uint32_t used;
  IpcKind kind;
  int32_t virt;
  int32_t real;
  int32_t key;
  uint32_t flags;
  // A segment's creator as the application knows it (its shm_cpid), once
  // ckpt_restart made the segment again (the kernel then names ckpt_restart); 0: the kernel's.
  int32_t creator_vpid;
  uint32_t reserved;
};

// A process's SEM_UNDO adjustment of one semaphore (the kernel's semadj, which
// it does not show): minus the sum of the sem_op values it applied with
// SEM_UNDO since the value was last set.
struct SysvAdjustment {
  uint32_t used;
  int32_t vpid;
  int32_t virt_semid;
  uint32_t semnum;
  int32_t adj;
  uint32_t reserved;
};

struct SysvTableHeader {
  std::atomic<uint64_t> magic;  // written last by create()
  uint32_t version;
  uint32_t max_objects;
  uint32_t max_adjustments;
  std::atomic<uint32_t> lock;
  // Adjustment slots [0, adjustment_high_water) may be in use: a process
  // that starts or exits looks at those only (most computations use none).
  std::atomic<uint32_t> adjustment_high_water;
  uint32_t reserved[9];
  // The computation's pid table (plugins/pid): when that file is gone, the
  // computation is over and this table can go too (sweep_dead_sysv_tables).
  char pid_table[256];
  // The host its processes run on, as the computation names it: processes
  // of other hosts (even ones that share this machine's files) make their own.
  char host[64];
};

struct SysvTableFile {
  SysvTableHeader header;
  SysvObject objects[kMaxObjects];
  SysvAdjustment adjustments[kMaxAdjustments];
};

static_assert(sizeof(SysvTableHeader) == 384);
static_assert(sizeof(SysvObject) == 32);
static_assert(sizeof(SysvAdjustment) == 24);

class SysvTable {
 public:
  static constexpr size_t file_size() { return (sizeof(SysvTableFile) + 4095) & ~size_t{4095}; }

  // A new table file (O_EXCL, 0600), mapped. Returns 0 or -errno.
  static long create(const char* path, const char* pid_table, const char* host, SysvTable& out) {
    long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fd;
    long rc = raw_syscall(SYS_ftruncate, fd, static_cast<long>(file_size()));
    if (rc == 0) rc = map(fd, out);
    raw_syscall(SYS_close, fd);
    if (rc < 0) {
      raw_syscall(SYS_unlinkat, AT_FDCWD, reinterpret_cast<long>(path), 0);
      return rc;
    }
    SysvTableHeader& h = out.file_->header;
    h.version = kSysvTableVersion;
    h.max_objects = kMaxObjects;
    h.max_adjustments = kMaxAdjustments;
    snprintf(h.pid_table, sizeof h.pid_table, "%s", pid_table ? pid_table : "");
    snprintf(h.host, sizeof h.host, "%s", host ? host : "");
    h.magic.store(kSysvTableMagic, std::memory_order_release);
    return 0;
  }

  // Maps an existing table file. Returns 0 or -errno (-EINVAL: not a table of this version).
  static long open(const char* path, SysvTable& out) {
    long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDWR | O_CLOEXEC);
    if (fd < 0) return fd;
    struct stat st;
    long rc = raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st));
    if (rc == 0 && static_cast<size_t>(st.st_size) < file_size()) rc = -EINVAL;
    if (rc == 0) rc = map(fd, out);
    raw_syscall(SYS_close, fd);
    if (rc < 0) return rc;
    if (!out.valid()) {
      out.close();
      return -EINVAL;
    }
    return 0;
  }

  // Adopts a table mapped at `at` (after a restart). False if none is there.
  bool attach(void* at) {
    file_ = static_cast<SysvTableFile*>(at);
    if (valid()) return true;
    file_ = nullptr;
    return false;
  }

  const char* pid_table() const { return file_->header.pid_table; }
  const char* host() const { return file_->header.host; }
  bool is_open() const { return file_ != nullptr; }
  void* address() const { return file_; }
  void close() {
    if (file_) raw_syscall(SYS_munmap, reinterpret_cast<long>(file_), static_cast<long>(file_size()));
    file_ = nullptr;
  }

  // The lock word holds the holder's kernel thread id. A holder killed
  // inside a wrapper (SIGKILL) would hold it for ever: a waiter that finds
  // the holder gone takes it over.
  void lock() {
    const uint32_t me = static_cast<uint32_t>(raw_syscall(SYS_gettid));
    for (unsigned spins = 1;; ++spins) {
      uint32_t holder = 0;
      if (file_->header.lock.compare_exchange_weak(holder, me, std::memory_order_acquire)) return;
      if (holder != 0 && spins % 1024 == 0 && raw_syscall(SYS_kill, holder, 0) == -ESRCH &&
          file_->header.lock.compare_exchange_strong(holder, me, std::memory_order_acquire))
        return;
      raw_syscall(SYS_sched_yield);
    }
  }
  void unlock() { file_->header.lock.store(0, std::memory_order_release); }

  // ---- objects (callers hold the lock, or every other user is frozen) ----

  SysvObject* find_virtual(IpcKind kind, int32_t virt) {
    return find([&](const SysvObject& o) { return o.kind == kind && o.virt == virt; });
  }
  SysvObject* find_real(IpcKind kind, int32_t real) {
    return find([&](const SysvObject& o) { return o.kind == kind && o.real == real; });
  }
  // An object whose key lives only in this table (kKeyElsewhere).
  SysvObject* find_virtual_key(IpcKind kind, int32_t key) {
    return find([&](const SysvObject& o) { return o.kind == kind && o.key == key && (o.flags & kKeyElsewhere); });
  }

  // Records the kernel object `real` (idempotent) and returns its virtual id:
  // `real` itself unless another object already goes by that virtual id.
  // -1 if the table is full.
  int32_t record(IpcKind kind, int32_t real, int32_t key) {
    if (SysvObject* o = find_real(kind, real)) return o->virt;
    int32_t virt = real;
    while (find_virtual(kind, virt)) virt = virt < INT32_MAX ? virt + 1 : 1;
    return insert({1, kind, virt, real, key, 0, 0, 0}) ? virt : -1;
  }

  // Readers do not take the lock (the wrappers translate ids without it):
  // a slot is published by its `used` word, written last.
  bool insert(const SysvObject& o) {
    for (SysvObject& slot : file_->objects)
      if (!__atomic_load_n(&slot.used, __ATOMIC_ACQUIRE)) {
        SysvObject copy = o;
        copy.used = 0;
        slot = copy;
        __atomic_store_n(&slot.used, 1, __ATOMIC_RELEASE);
        return true;
      }
    return false;
  }

  void remove(SysvObject* o) {
    if (o->kind == IpcKind::Sem) clear_adjustments(o->virt, -1);
    __atomic_store_n(&o->used, 0, __ATOMIC_RELEASE);
    *o = SysvObject{};
  }

  template <typename Fn>
  void for_each_object(Fn fn) {
    for (SysvObject& o : file_->objects)
      if (o.used) fn(o);
  }

  // ---- SEM_UNDO adjustments ----

  // Adds `delta` to process vpid's adjustment of (semid, semnum). False if full.
  bool add_adjustment(int32_t vpid, int32_t virt_semid, uint32_t semnum, int32_t delta) {
    SysvAdjustment* free_slot = nullptr;
    for (SysvAdjustment& a : adjustment_slots()) {
      if (a.used && a.vpid == vpid && a.virt_semid == virt_semid && a.semnum == semnum) {
        a.adj += delta;
        if (a.adj == 0) a = SysvAdjustment{};
        return true;
      }
      if (!a.used && !free_slot) free_slot = &a;
    }
    if (delta == 0) return true;
    std::atomic<uint32_t>& high_water = file_->header.adjustment_high_water;
    if (!free_slot) {
      const uint32_t n = high_water.load(std::memory_order_relaxed);
      if (n >= kMaxAdjustments) return false;
      free_slot = &file_->adjustments[n];
      high_water.store(n + 1, std::memory_order_release);
    }
    *free_slot = {1, vpid, virt_semid, semnum, delta, 0};
    return true;
  }

  // SETVAL (one semaphore) or SETALL/IPC_RMID (semnum -1) clear every process's adjustment.
  void clear_adjustments(int32_t virt_semid, int64_t semnum) {
    for (SysvAdjustment& a : adjustment_slots())
      if (a.used && a.virt_semid == virt_semid && (semnum < 0 || a.semnum == semnum)) a = SysvAdjustment{};
  }

  // A process that exited: the kernel applied its adjustments.
  void drop_process(int32_t vpid) {
    for (SysvAdjustment& a : adjustment_slots())
      if (a.used && a.vpid == vpid) a = SysvAdjustment{};
  }

  template <typename Fn>
  void for_each_adjustment(Fn fn) {
    for (SysvAdjustment& a : adjustment_slots())
      if (a.used) fn(a);
  }

 private:
  // The adjustment slots that may be in use.
  struct Slots {
    SysvAdjustment* first;
    SysvAdjustment* last;
    SysvAdjustment* begin() const { return first; }
    SysvAdjustment* end() const { return last; }
  };
  Slots adjustment_slots() const {
    const uint32_t n = file_->header.adjustment_high_water.load(std::memory_order_acquire);
    return {file_->adjustments, file_->adjustments + (n < kMaxAdjustments ? n : kMaxAdjustments)};
  }

  static long map(long fd, SysvTable& out) {
    long addr = raw_syscall(SYS_mmap, 0, static_cast<long>(file_size()), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr < 0 && addr > -4096) return addr;
    out.file_ = reinterpret_cast<SysvTableFile*>(addr);
    return 0;
  }

  bool valid() const {
    const SysvTableHeader& h = file_->header;
    return h.magic.load(std::memory_order_acquire) == kSysvTableMagic && h.version == kSysvTableVersion &&
           h.max_objects == kMaxObjects && h.max_adjustments == kMaxAdjustments;
  }

  template <typename Pred>
  SysvObject* find(Pred pred) {
    if (!file_) return nullptr;
    for (SysvObject& o : file_->objects)
      if (__atomic_load_n(&o.used, __ATOMIC_ACQUIRE) && pred(o)) return &o;
    return nullptr;
  }

  SysvTableFile* file_ = nullptr;
};

// A table file's name in `dir`, unique to this user, process and moment.
inline void sysv_table_name(char* out, size_t cap, const char* dir, unsigned uid, int pid, long sec, long nsec) {
  snprintf(out, cap, "%s/ckpt-%u-%d-%lx%09lx%s", dir, uid, pid, static_cast<unsigned long>(sec),
           static_cast<unsigned long>(nsec), kSysvTableSuffix);
}

// Removes this user's tables in `dir` whose computation is over (its pid
// table file is gone: the pid plugin sweeps those of dead computations, and
// the last process removes its own). `own` stays. Allocation-free.
inline void sweep_dead_sysv_tables(const char* dir, const char* own) {
  char prefix[32];
  snprintf(prefix, sizeof prefix, "ckpt-%u-", static_cast<unsigned>(raw_syscall(SYS_getuid)));
  const size_t prefix_len = strlen(prefix), suffix_len = sizeof kSysvTableSuffix - 1;
  for_each_entry(dir, [&](const char* name, int dir_fd) {
    const size_t len = strlen(name);
    if (strncmp(name, prefix, prefix_len) != 0 || len < suffix_len || strcmp(name + len - suffix_len, kSysvTableSuffix) != 0)
      return true;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (own && strcmp(path, own) == 0) return true;
    SysvTable other;
    if (SysvTable::open(path, other) != 0) return true;
    struct stat st;
    bool over = other.pid_table()[0] && raw_syscall(SYS_stat, reinterpret_cast<long>(other.pid_table()),
                                                    reinterpret_cast<long>(&st)) == -ENOENT;
    other.close();
    if (over) raw_syscall(SYS_unlinkat, dir_fd, reinterpret_cast<long>(name), 0);
    return true;
  });
}

}  // namespace ckpt::sysv
