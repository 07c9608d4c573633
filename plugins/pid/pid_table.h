// The shared pid table of a computation: virtual pid -> kernel pid, for every
// process of the tree (GUIDE §3.5, CONTRACT "Shared pid table").
//
// One file (tmpfs: /dev/shm, else $TMPDIR) mapped MAP_SHARED by every process.
// fork inherits the mapping; an exec'ed image reopens it from $CKPT_PIDTABLE.
// All operations are lock-free and use raw system calls only: no malloc, no
// stdio, no libc locks, no errno. That makes the table safe for libckpt's
// checkpoint thread while other threads are frozen, for the wrappers, and for
// ckpt_restart.
//
// Usage in ckpt_restart (link the CMake target ckpt_pid_table):
//
//   ckpt::PidTable table;
//   long rc = ckpt::PidTable::create(new_path, table);    // new, empty, mode 0600
//   if (rc < 0) die(... strerror(-rc));
//   // for every restored process and every zombie:
//   table.insert(section.vpid, new_real_pid, section.vppid, 0);          // a live process
//   table.insert(zombie.vpid, new_real_pid, section.vpid, kPidZombie);   // a recreated zombie
//   table.close();   // the file stays; processes keep their own mappings
//
// The image of each process records the path of the table it mapped in
// PidSection.pidtable_path; its memory regions contain a MAP_SHARED file
// region with that same path. ckpt_restart maps the NEW file (same size)
// there instead, at the same address, so the restored plugin finds the new
// table where its pointer already points (it then learns the new path from
// /proc/self/maps). Every process of one restart must map the same new file.
//
// A process inserts its children (vpid = kernel pid at creation) and removes
// them when it reaps them. Entries are found by linear scan up to a high-water
// mark, which stays near the largest number of processes alive at once.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

#include <atomic>

#include "ckpt/proc_dir.h"
#include "ckpt/raw_syscall.h"

namespace ckpt {

inline constexpr uint64_t kPidTableMagic = 0x5441424450504b43ull;  // "CKPPDBAT" little-endian
inline constexpr uint32_t kPidTableVersion = 1;
inline constexpr uint32_t kPidTableCapacity = 8192;

// Entry flags.
inline constexpr uint32_t kPidZombie = 1u << 0;  // a zombie recreated by ckpt_restart
// Not a process: a process group or session id whose leader is gone. After a
// restart `real` is the kernel id the group or session has now (ckpt_restart
// made some member its leader); vppid is unused.
inline constexpr uint32_t kPidGroupOnly = 1u << 1;

// A table file's name in `dir`: unique to this user, the creating process
// and the moment ("ckpt-UID-PID-TIME.pids"; the sweep of dead tables knows
// them by kPidTablePrefix and kPidTableSuffix). Allocation-free.
inline constexpr char kPidTableSuffix[] = ".pids";
inline void pid_table_name(char* out, size_t cap, const char* dir, unsigned uid, int pid, long sec, long nsec) {
  snprintf(out, cap, "%s/ckpt-%u-%d-%lx%09lx%s", dir, uid, pid, static_cast<unsigned long>(sec),
           static_cast<unsigned long>(nsec), kPidTableSuffix);
}
inline void pid_table_prefix(char* out, size_t cap, unsigned uid) { snprintf(out, cap, "ckpt-%u-", uid); }

// What lookups and iteration hand out: a consistent copy of one entry.
struct PidEntry {
  pid_t vpid;
  pid_t real;
  pid_t vppid;  // the parent's virtual pid (a pid outside the computation if not ours)
  uint32_t flags;
};

struct PidTableHeader {
  std::atomic<uint64_t> magic;  // written last by create(): a table with this magic is complete
  uint32_t version;
  uint32_t capacity;
  uint32_t entry_size;
  uint32_t header_size;
  std::atomic<uint32_t> high_water;   // slots [0, high_water) may be in use
  std::atomic<uint32_t> next_serial;  // insertion order, settles duplicate inserts
  uint32_t reserved[8];
};

// One slot. `state` is a per-slot sequence lock: the low two bits say
// free / being written / in use, the rest counts transitions, so a reader
// that sees the same state before and after copying the fields got one
// consistent entry (a slot freed and reused in between has a new count).
struct PidSlot {
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> serial;
  std::atomic<int32_t> vpid;
  std::atomic<int32_t> real;
  std::atomic<int32_t> vppid;
  std::atomic<uint32_t> flags;
  uint32_t reserved[2];
};

static_assert(sizeof(PidTableHeader) == 64);
static_assert(sizeof(PidSlot) == 32);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

class PidTable {
 public:
  static constexpr uint32_t kFree = 0, kBusy = 1, kUsed = 2;

  static constexpr size_t file_size(uint32_t capacity = kPidTableCapacity) {
    return (sizeof(PidTableHeader) + size_t{capacity} * sizeof(PidSlot) + 4095) & ~size_t{4095};
  }

  // Creates a new table file (O_EXCL, mode 0600) and maps it. `at`: map at
  // exactly this address (MAP_FIXED) instead of where the kernel likes.
  // Returns 0 or -errno.
  static long create(const char* path, PidTable& out, void* at = nullptr) {
    long fd = raw(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fd;
    size_t size = file_size();
    long rc = raw(SYS_ftruncate, fd, size);
    if (rc == 0) rc = map(fd, size, at, out);
    raw(SYS_close, fd);
    if (rc < 0) {
      raw(SYS_unlinkat, AT_FDCWD, path, 0);
      return rc;
    }
    PidTableHeader* h = out.header_;
    h->version = kPidTableVersion;
    h->capacity = kPidTableCapacity;
    h->entry_size = sizeof(PidSlot);
    h->header_size = sizeof(PidTableHeader);
    h->high_water.store(0, std::memory_order_relaxed);
    h->next_serial.store(1, std::memory_order_relaxed);
    h->magic.store(kPidTableMagic, std::memory_order_release);
    return 0;
  }

  // Maps an existing table file and checks it. Returns 0 or -errno
  // (-EINVAL: not a pid table or another version).
  static long open(const char* path, PidTable& out, void* at = nullptr) {
    long fd = raw(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return fd;
    struct stat st;
    long rc = raw(SYS_fstat, fd, &st);
    if (rc == 0 && static_cast<size_t>(st.st_size) < file_size()) rc = -EINVAL;
    if (rc == 0) rc = map(fd, file_size(), at, out);
    raw(SYS_close, fd);
    if (rc < 0) return rc;
    if (!out.valid()) {
      out.close();
      return -EINVAL;
    }
    return 0;
  }

  // Adopts a table that is already mapped (e.g. after a restart, where the
  // restorer mapped it). Returns false if `mapping` holds no valid table.
  static bool attach(void* mapping, PidTable& out) {
    out.header_ = static_cast<PidTableHeader*>(mapping);
    out.slots_ = reinterpret_cast<PidSlot*>(out.header_ + 1);
    if (out.valid()) return true;
    out.header_ = nullptr;
    out.slots_ = nullptr;
    return false;
  }

  bool is_open() const { return header_ != nullptr; }
  void* address() const { return header_; }

  // Unmaps (the file stays).
  void close() {
    if (header_) raw(SYS_munmap, header_, file_size());
    header_ = nullptr;
    slots_ = nullptr;
  }

  // Adds vpid -> real. Returns false if the table is full or `vpid` is
  // already there (whatever its real pid). Two concurrent inserts of the same
  // vpid leave exactly one entry: the earlier one (by serial).
  bool insert(pid_t vpid, pid_t real, pid_t vppid, uint32_t flags) {
    if (!header_ || vpid <= 0) return false;
    if (find_virtual(vpid, nullptr)) return false;
    uint32_t serial = header_->next_serial.fetch_add(1, std::memory_order_relaxed);
    for (uint32_t i = 0; i < kPidTableCapacity; ++i) {
      PidSlot& s = slots_[i];
      uint32_t st = s.state.load(std::memory_order_relaxed);
      if (status(st) != kFree) continue;
      if (!s.state.compare_exchange_strong(st, taken(st), std::memory_order_acquire)) continue;
      std::atomic_thread_fence(std::memory_order_release);
      s.serial.store(serial, std::memory_order_relaxed);
      s.vpid.store(vpid, std::memory_order_relaxed);
      s.real.store(real, std::memory_order_relaxed);
      s.vppid.store(vppid, std::memory_order_relaxed);
      s.flags.store(flags, std::memory_order_relaxed);
      raise_high_water(i + 1);
      uint32_t published = released(taken(st), kUsed);
      s.state.store(published, std::memory_order_release);
      return settle_duplicates(i, published, vpid, serial);
    }
    return false;
  }

  // Removes vpid's entry. Returns false if there was none.
  bool remove(pid_t vpid) {
    return modify(vpid, [](PidSlot&) { return false; });
  }

  // Changes the kernel pid behind `vpid`. Returns false if there is no entry.
  bool set_real(pid_t vpid, pid_t real) {
    return modify(vpid, [real](PidSlot& s) {
      s.real.store(real, std::memory_order_relaxed);
      return true;
    });
  }

  // Replaces real, vppid and flags of e.vpid's entry. Returns false if there is no entry.
  bool update(const PidEntry& e) {
    return modify(e.vpid, [&e](PidSlot& s) {
      s.real.store(e.real, std::memory_order_relaxed);
      s.vppid.store(e.vppid, std::memory_order_relaxed);
      s.flags.store(e.flags, std::memory_order_relaxed);
      return true;
    });
  }

  // Changes the flags of `vpid`'s entry. Returns false if there is no entry.
  bool set_flags(pid_t vpid, uint32_t flags) {
    return modify(vpid, [flags](PidSlot& s) {
      s.flags.store(flags, std::memory_order_relaxed);
      return true;
    });
  }

  // Lookups: true and a copy in *out (if non-null) when found.
  bool find_virtual(pid_t vpid, PidEntry* out) const {
    return find_if([vpid](const PidEntry& e) { return e.vpid == vpid; }, out);
  }
  // The process (not kPidGroupOnly) entry whose kernel pid is `real`.
  bool find_real(pid_t real, PidEntry* out) const {
    return find_if([real](const PidEntry& e) { return e.real == real && !(e.flags & kPidGroupOnly); }, out);
  }
  // The entry (process or kPidGroupOnly) naming the kernel process group or
  // session `real`; a kPidGroupOnly entry wins.
  bool find_real_group(pid_t real, PidEntry* out) const {
    if (find_if([real](const PidEntry& e) { return e.real == real && (e.flags & kPidGroupOnly); }, out)) return true;
    return find_real(real, out);
  }

  // Calls fn(const PidEntry&) for every entry; fn returns false to stop.
  // Entries inserted or removed meanwhile may or may not be seen.
  template <typename Fn>
  void for_each(Fn fn) const {
    if (!header_) return;
    for (uint32_t i = 0, n = scan_limit(); i < n; ++i) {
      SlotCopy c;
      if (read_slot(slots_[i], c) && !fn(c.entry)) return;
    }
  }

  // Number of entries (a snapshot).
  uint32_t count() const {
    uint32_t n = 0;
    for_each([&n](const PidEntry&) {
      ++n;
      return true;
    });
    return n;
  }

 private:
  struct SlotCopy {
    PidEntry entry;
    uint32_t serial;
    uint32_t state;  // the slot's state word when copied
  };

  static constexpr uint32_t status(uint32_t state) { return state & 3; }
  // Taking a slot (free or used -> busy) counts a transition; leaving busy keeps the count.
  static constexpr uint32_t taken(uint32_t state) { return (((state >> 2) + 1) << 2) | kBusy; }
  static constexpr uint32_t released(uint32_t state, uint32_t to) { return (state & ~3u) | to; }

  template <typename... A>
  static long raw(long nr, A... a) {
    long v[6] = {(long)a...};
    return ckpt_raw_syscall6(nr, v[0], v[1], v[2], v[3], v[4], v[5]);
  }

  static long map(long fd, size_t size, void* at, PidTable& out) {
    long addr = raw(SYS_mmap, at, size, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED : 0), fd, 0);
    if (addr < 0 && addr > -4096) return addr;
    out.header_ = reinterpret_cast<PidTableHeader*>(addr);
    out.slots_ = reinterpret_cast<PidSlot*>(out.header_ + 1);
    return 0;
  }

  bool valid() const {
    const PidTableHeader* h = header_;
    return h->magic.load(std::memory_order_acquire) == kPidTableMagic && h->version == kPidTableVersion &&
           h->capacity == kPidTableCapacity && h->entry_size == sizeof(PidSlot) &&
           h->header_size == sizeof(PidTableHeader);
  }

  void raise_high_water(uint32_t n) {
    uint32_t cur = header_->high_water.load(std::memory_order_relaxed);
    while (cur < n && !header_->high_water.compare_exchange_weak(cur, n, std::memory_order_release)) {
    }
  }

  // A consistent copy of a used slot. A slot being written is waited for a
  // little (an update is quick), then treated as absent: its writer may be
  // frozen by a checkpoint or killed.
  static bool read_slot(const PidSlot& s, SlotCopy& out) {
    for (int tries = 0; tries < 4096; ++tries) {
      uint32_t before = s.state.load(std::memory_order_acquire);
      if (status(before) == kFree) return false;
      if (status(before) == kUsed) {
        out.serial = s.serial.load(std::memory_order_relaxed);
        out.entry.vpid = s.vpid.load(std::memory_order_relaxed);
        out.entry.real = s.real.load(std::memory_order_relaxed);
        out.entry.vppid = s.vppid.load(std::memory_order_relaxed);
        out.entry.flags = s.flags.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (s.state.load(std::memory_order_relaxed) == before) {
          out.state = before;
          return true;
        }
      }
      __builtin_ia32_pause();
    }
    return false;
  }

  uint32_t scan_limit() const {
    uint32_t n = header_->high_water.load(std::memory_order_acquire);
    return n < kPidTableCapacity ? n : kPidTableCapacity;
  }

  template <typename Pred>
  bool find_if(Pred pred, PidEntry* out) const {
    if (!header_) return false;
    for (uint32_t i = 0, n = scan_limit(); i < n; ++i) {
      SlotCopy c;
      if (read_slot(slots_[i], c) && pred(c.entry)) {
        if (out) *out = c.entry;
        return true;
      }
    }
    return false;
  }

  // Takes the used slot `i` seen in `state`; false if it changed meanwhile.
  bool take(uint32_t i, uint32_t state) {
    if (!slots_[i].state.compare_exchange_strong(state, taken(state), std::memory_order_acquire)) return false;
    std::atomic_thread_fence(std::memory_order_release);  // field stores stay after the busy mark
    return true;
  }

  void free_taken(uint32_t i) {
    PidSlot& s = slots_[i];
    s.vpid.store(0, std::memory_order_relaxed);
    s.real.store(0, std::memory_order_relaxed);
    s.vppid.store(0, std::memory_order_relaxed);
    s.flags.store(0, std::memory_order_relaxed);
    s.serial.store(0, std::memory_order_relaxed);
    s.state.store(released(s.state.load(std::memory_order_relaxed), kFree), std::memory_order_release);
  }

  // Runs fn(slot) on vpid's slot while it is taken; fn returns true to keep
  // the entry, false to free it.
  template <typename Fn>
  bool modify(pid_t vpid, Fn fn) {
    if (!header_ || vpid <= 0) return false;
    for (;;) {
      bool raced = false;
      for (uint32_t i = 0, n = scan_limit(); i < n; ++i) {
        SlotCopy c;
        if (!read_slot(slots_[i], c) || c.entry.vpid != vpid) continue;
        if (!take(i, c.state)) {
          raced = true;
          continue;
        }
        if (fn(slots_[i])) slots_[i].state.store(released(taken(c.state), kUsed), std::memory_order_release);
        else free_taken(i);
        return true;
      }
      if (!raced) return false;
    }
  }

  // After publishing slot `mine`: if another entry holds the same vpid, the
  // later insert (higher serial) goes. Both inserters publish before they
  // look, with a full fence in between, so at least one sees the other.
  bool settle_duplicates(uint32_t mine, uint32_t my_state, pid_t vpid, uint32_t my_serial) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (uint32_t i = 0, n = scan_limit(); i < n; ++i) {
      if (i == mine) continue;
      SlotCopy c;
      if (!read_slot(slots_[i], c) || c.entry.vpid != vpid) continue;
      if (c.serial < my_serial) {
        if (take(mine, my_state)) free_taken(mine);
        return false;
      }
      if (take(i, c.state)) free_taken(i);
    }
    return true;
  }

  PidTableHeader* header_ = nullptr;
  PidSlot* slots_ = nullptr;
};

// Whether process `pid` exists and is not a zombie (an orphan may stay one
// for a while, until whoever adopted it reaps it). Allocation-free.
inline bool process_is_running(pid_t pid) {
  if (raw_syscall(SYS_kill, pid, 0) == -ESRCH) return false;
  char path[32], stat[512];
  snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd != -ENOENT;
  const long n = raw_syscall(SYS_read, fd, reinterpret_cast<long>(stat), sizeof stat - 1);
  raw_syscall(SYS_close, fd);
  if (n <= 0) return true;
  stat[n] = '\0';
  const char* end = strrchr(stat, ')');  // the command name may hold anything
  return !(end && end[1] == ' ' && end[2] == 'Z');
}

// Whether /proc/PID/FILE holds `needle` (a NUL-free string): 1 yes, 0 no,
// -1 unreadable. Read in pieces that overlap by the needle's length, so a
// match across two reads is found. Allocation-free.
inline int proc_file_holds(pid_t pid, const char* file, const char* needle) {
  char path[48], buf[4096 + 512];
  const size_t keep = strlen(needle);
  if (keep == 0 || keep >= 512) return -1;
  snprintf(path, sizeof path, "/proc/%d/%s", static_cast<int>(pid), file);
  const long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t have = 0;
  int found = 0;
  for (;;) {
    const long n = raw_syscall(SYS_read, fd, reinterpret_cast<long>(buf + have), 4096);
    if (n < 0) found = have ? found : -1;
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    // NULs (environ) end strings: search each piece of the buffer.
    for (size_t at = 0; at + keep <= have && !found;) {
      const void* hit = memchr(buf + at, needle[0], have - at);
      if (!hit) break;
      at = static_cast<size_t>(static_cast<const char*>(hit) - buf);
      if (at + keep <= have && memcmp(buf + at, needle, keep) == 0) found = 1;
      ++at;
    }
    if (found) break;
    const size_t tail = have < keep ? have : keep;
    memmove(buf, buf + have - tail, tail);
    have = tail;
  }
  raw_syscall(SYS_close, fd);
  return found;
}

// Whether running process `pid` still belongs to the computation of the
// table at `path`: it maps the table (or, in the moment of an exec before
// libckpt maps it again, names it in its environment). The kernel reuses pids
// (pid_max can be 32768): a table whose processes all died must not be kept
// by an unrelated process that got one of their pids. Unreadable files
// (another user's process) count as belonging.
inline bool process_holds_table(pid_t pid, const char* path) {
  const char* name = strrchr(path, '/');
  name = name ? name + 1 : path;
  const int maps = proc_file_holds(pid, "maps", name);
  if (maps != 0) return true;
  return proc_file_holds(pid, "environ", name) != 0;
}

// Removes the tables in `dir` of this user's computations that are over:
// every process in them is gone (killed by a signal, or ended by _exit(), so
// that none of them removed the file). A table with no entries may be one
// that is being set up: it stays for a minute, as does `own` (the caller's). ckpt_launch
// (through libckpt) and ckpt_restart sweep the directory they make their
// table in. Allocation-free. `kept`, when given, hears of each table kept
// for a live process that still holds it (the coordinator says which).
using KeptTable = void (*)(void* context, const char* table, pid_t holder);
inline void sweep_dead_tables(const char* dir, const char* own, KeptTable kept = nullptr, void* context = nullptr) {
  char prefix[32];
  pid_table_prefix(prefix, sizeof prefix, static_cast<unsigned>(raw_syscall(SYS_getuid)));
  const size_t prefix_len = strlen(prefix), suffix_len = sizeof kPidTableSuffix - 1;
  for_each_entry(dir, [&](const char* name, int dir_fd) {
    const size_t len = strlen(name);
    if (strncmp(name, prefix, prefix_len) != 0 || len < suffix_len ||
        strcmp(name + len - suffix_len, kPidTableSuffix) != 0)
      return true;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (own && strcmp(path, own) == 0) return true;
    PidTable other;
    if (PidTable::open(path, other) != 0) return true;
    // Group-only entries are no processes of the computation: a group or
    // session it started in (the batch job's, the shell's) lives on.
    bool alive = false;
    uint32_t processes = 0;
    pid_t holder = 0;
    other.for_each([&](const PidEntry& e) {
      if (e.flags & kPidGroupOnly) return true;
      ++processes;
      alive = process_is_running(e.real) && process_holds_table(e.real, path);
      if (alive) holder = e.real;
      return !alive;
    });
    other.close();
    if (alive && kept) kept(context, path, holder);
    // An empty table is one being set up, unless it has been empty for a
    // minute (its maker died before its first entry).
    bool abandoned = false;
    if (processes == 0) {
      struct stat st;
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      abandoned = raw_syscall(SYS_newfstatat, dir_fd, reinterpret_cast<long>(name), reinterpret_cast<long>(&st),
                              AT_SYMLINK_NOFOLLOW) == 0 &&
                  now.tv_sec - st.st_mtim.tv_sec > 60;
    }
    if ((processes > 0 && !alive) || abandoned) raw_syscall(SYS_unlinkat, dir_fd, reinterpret_cast<long>(name), 0);
    return true;
  });
}

// Where pid tables are made, in order of preference: /dev/shm when usable,
// else $TMPDIR, else /tmp. Fills `dirs` (3 entries); returns how many.
inline int pid_table_dirs(const char* dirs[3]) {
  const char* tmpdir = getenv("TMPDIR");
  dirs[0] = "/dev/shm";
  dirs[1] = tmpdir && *tmpdir ? tmpdir : "/tmp";
  dirs[2] = "/tmp";
  return 3;
}

// Sweeps every place pid tables are made (the coordinator, once its last
// process is gone: a computation ended by SIGTERM or SIGINT ran no code to
// remove its table).
inline void sweep_dead_tables_everywhere(KeptTable kept = nullptr, void* context = nullptr) {
  const char* dirs[3];
  const int n = pid_table_dirs(dirs);
  for (int i = 0; i < n; ++i)
    if (i == 0 || strcmp(dirs[i], dirs[i - 1]) != 0) sweep_dead_tables(dirs[i], nullptr, kept, context);
}

}  // namespace ckpt
