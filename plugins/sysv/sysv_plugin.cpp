// System V IPC (issue 10): shared memory segments, semaphore sets and
// message queues, with the ids the application holds kept valid across
// restarts (sysv_table.h), SEM_UNDO adjustments re-applied, and segments
// attached again where they were.
//
// At DRAIN (every process of the computation frozen) each process lists its
// attached segments; the process with the lowest virtual pid among those
// that map the table saves every object of it once for the computation: permissions, key, a
// segment's bytes, a set's values, a queue's messages (read with MSG_COPY,
// which leaves them queued), and every process's adjustments. ckpt_restart
// (sysv_restart.cpp) makes the objects again and a new table, and maps each
// process's segments where they were before its address space is replaced
// (their bytes are not in the process images: ckpt_save_region_bytes); the
// restored processes take their SEM_UNDO adjustments back here.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/environment.h"
#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "proc_maps.h"
#include "sysv_section.h"
#include "sysv_state.h"

namespace ckpt::sysv {
namespace {

constexpr size_t kMaxAttaches = 1024;
constexpr size_t kMaxMaps = image::kMaxRegions;  // as many mappings as an image may hold
constexpr size_t kPathMax = sizeof(SysvSectionHeader::table_path);

SysvTable g_table;
char g_path[kPathMax];
// This process's attachments, listed at DRAIN for its section.
SysvAttach g_attaches[kMaxAttaches];
size_t g_attach_count = 0;
bool g_restarted = false;

pid_t self_vpid() { return ckpt_virtual_pid(static_cast<pid_t>(raw_syscall(SYS_getpid))); }

// The host this process runs on, as the computation names it (as libckpt does).
void host_name(char (&out)[64]) {
  const char* name = getenv(CKPT_ENV_HOST_NAME);
  struct utsname u;
  if (name && *name) snprintf(out, sizeof out, "%.63s", name);
  else if (uname(&u) == 0) snprintf(out, sizeof out, "%.63s", u.nodename);
  else out[0] = '\0';
}

// Who saves: every process shares which table it maps (at PRE_CHECKPOINT, or
// at RESTART for the RESUME after it); the one with the lowest virtual pid
// among those that map the same file is the table's saver. Processes of one
// computation on several hosts have a table each.
struct TableMember {
  uint64_t dev;
  uint64_t ino;
  int32_t vpid;
  uint32_t reserved;
};
constexpr char kMemberShare[] = "sysv.member";

bool table_identity(TableMember& m) {
  struct stat st;
  if (!g_path[0] || raw_syscall(SYS_stat, reinterpret_cast<long>(g_path), reinterpret_cast<long>(&st)) != 0) return false;
  m = {st.st_dev, st.st_ino, self_vpid(), 0};
  return true;
}

void share_membership() {
  TableMember m;
  if (active() && table_identity(m) && ckpt_share(kMemberShare, &m, sizeof m) != 0)
    ckpt_fail_checkpoint("System V: cannot share which id table this process uses");
}

bool is_saver() {
  TableMember me;
  if (!table_identity(me)) return true;  // a table nobody else can name: its own
  struct Lowest {
    TableMember me;
    int32_t vpid;
  } low{me, me.vpid};
  ckpt_for_each_shared(
      kMemberShare,
      [](const void* data, size_t len, void* arg) {
        Lowest* l = static_cast<Lowest*>(arg);
        TableMember m;
        if (len != sizeof m) return 0;
        memcpy(&m, data, sizeof m);
        if (m.dev == l->me.dev && m.ino == l->me.ino && m.vpid < l->vpid) l->vpid = m.vpid;
        return 0;
      },
      &low);
  return low.vpid == me.vpid;
}

bool process_alive(pid_t vpid) {
  struct Find {
    pid_t vpid;
    bool found;
  } f{vpid, false};
  ckpt_for_each_process(
      [](pid_t virt, pid_t, void* arg) {
        Find* f = static_cast<Find*>(arg);
        if (virt == f->vpid) f->found = true;
        return f->found ? 1 : 0;
      },
      &f);
  return f.found;
}

void fail(const char* what, IpcKind kind, int virt, int key, long err) {
  ShortText t;
  t.add("System V ").add(kind_name(kind)).add(" ").dec(virt).add(" (key 0x").hex(static_cast<uint32_t>(key), 8)
      .add("): ").add(what);
  if (err) t.add(": ").add(strerror(static_cast<int>(-err)));
  ckpt_fail_checkpoint(t.c_str());
}

// ---- the table file ----

bool create_table() {
  const char* dirs[3] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
  if (!dirs[1] || !*dirs[1]) dirs[1] = "/tmp";
  const char* pid_table = getenv(CKPT_ENV_PIDTABLE);
  char host[64];
  host_name(host);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  for (const char* dir : dirs) {
    sysv_table_name(g_path, sizeof g_path, dir, static_cast<unsigned>(getuid()), static_cast<int>(getpid()),
                    now.tv_sec, now.tv_nsec);
    if (SysvTable::create(g_path, pid_table, host, g_table) == 0) {
      sweep_dead_sysv_tables(dir, g_path);
      return true;
    }
  }
  g_path[0] = '\0';
  return false;
}

void start() {
  const char* inherited = getenv(CKPT_ENV_SYSVTABLE);
  if (inherited && *inherited && strlen(inherited) < sizeof g_path && SysvTable::open(inherited, g_table) == 0) {
    char host[64];
    host_name(host);
    if (strcmp(g_table.host(), host) == 0) {
      strcpy(g_path, inherited);
      return;
    }
    g_table.close();  // another host's: it has its own System V objects
  }
  if (create_table()) setenv(CKPT_ENV_SYSVTABLE, g_path, 1);
}

// The file mapped at `addr` (after a restart the restorer mapped the new
// table where the old one was), from /proc/self/maps.
void learn_mapped_path(const void* addr) {
  MappedBuffer buf;
  if (!buf.reserve(kMaxMaps * sizeof(MapEntry))) return;
  MapEntry* maps = buf.at<MapEntry>(0);
  long n = read_proc_maps(0, maps, kMaxMaps);
  for (long i = 0; i < n; ++i)
    if (maps[i].start == reinterpret_cast<uint64_t>(addr) && maps[i].path[0] == '/' && !maps[i].path_deleted &&
        strlen(maps[i].path) < sizeof g_path)
      strcpy(g_path, maps[i].path);
  buf.release();
}

// ---- checkpoint ----

// This process's segments, from /proc/self/maps: a SysV mapping's inode is
// the segment's id.
bool list_attaches() {
  g_attach_count = 0;
  MappedBuffer buf;
  if (!buf.reserve(kMaxMaps * sizeof(MapEntry))) {
    ckpt_fail_checkpoint("System V: no memory to list this process's mappings");
    return false;
  }
  MapEntry* m = buf.at<MapEntry>(0);
  long n = read_proc_maps(0, m, kMaxMaps);
  if (n < 0) {
    ckpt_fail_checkpoint(n == -ENOSPC ? "System V: more mappings than an image may hold"
                                      : "System V: cannot read /proc/self/maps");
    buf.release();
    return false;
  }
  bool ok = true;
  for (long i = 0; i < n && ok; ++i) {
    if (!m[i].shared || strncmp(m[i].path, "/SYSV", 5) != 0) continue;
    int real = static_cast<int>(m[i].inode);
    g_table.lock();
    int virt = to_virtual(IpcKind::Shm, real);
    if (!g_table.find_real(IpcKind::Shm, real)) {
      struct shmid_ds ds;
      long rc = raw_syscall(SYS_shmctl, real, IPC_STAT, reinterpret_cast<long>(&ds));
      virt = g_table.record(IpcKind::Shm, real, rc == 0 ? ds.shm_perm.__key : IPC_PRIVATE);
    }
    g_table.unlock();
    if (virt < 0 || g_attach_count == kMaxAttaches) {
      ShortText t;
      t.add("System V shm ").dec(real).add(" attached at 0x").hex(m[i].start, 0).add(": ")
          .add(virt < 0 ? "the id table is full" : "more attachments than ckpt saves (1024)");
      ckpt_fail_checkpoint(t.c_str());
      ok = false;
      break;
    }
    g_attaches[g_attach_count++] = {m[i].start, m[i].end, m[i].offset, m[i].prot, virt};
    // The segment's bytes are saved once, by the saver; at restart this
    // process maps the new segment here (sysv_restart.cpp, region_source).
    if (ckpt_save_region_bytes(reinterpret_cast<const void*>(m[i].start), m[i].end - m[i].start, nullptr) != 0) ok = false;
  }
  buf.release();
  return ok;
}

// One object's record and contents, appended to `data`.
bool save_object(SysvObject& o, SysvObjectRecord& r, MappedBuffer& data) {
  r = SysvObjectRecord{};
  r.kind = o.kind;
  r.virt = o.virt;
  r.real = o.real;
  r.key = o.key;
  if (o.flags & kKeyElsewhere) r.flags |= kRecordKeyElsewhere;
  r.data_offset = data.size();
  auto perm = [&r](const struct ipc_perm& p) {
    r.uid = p.uid;
    r.gid = p.gid;
    r.cuid = p.cuid;
    r.cgid = p.cgid;
    r.mode = p.mode;
  };
  switch (o.kind) {
    case IpcKind::Shm: {
      struct shmid_ds ds;
      long rc = raw_syscall(SYS_shmctl, o.real, IPC_STAT, reinterpret_cast<long>(&ds));
      if (rc < 0) return fail("cannot read its state", o.kind, o.virt, o.key, rc), false;
      perm(ds.shm_perm);
      if (ds.shm_perm.mode & SHM_DEST) r.flags |= kRecordRemoved;
      r.size = ds.shm_segsz;
      r.count = static_cast<uint32_t>(ds.shm_nattch);
      r.creator_vpid = o.creator_vpid ? o.creator_vpid : ckpt_virtual_pid(ds.shm_cpid);  // set: restored
      long at = raw_syscall(SYS_shmat, o.real, 0, SHM_RDONLY);
      if (at < 0 && at > -4096) return fail("cannot attach it to read its contents", o.kind, o.virt, o.key, at), false;
      size_t off = data.append(reinterpret_cast<const void*>(at), ds.shm_segsz);
      raw_syscall(SYS_shmdt, at);
      if (off == MappedBuffer::kFailed) return fail("no memory for its contents", o.kind, o.virt, o.key, 0), false;
      break;
    }
    case IpcKind::Sem: {
      struct semid_ds ds;
      long rc = raw_syscall(SYS_semctl, o.real, 0, IPC_STAT, reinterpret_cast<long>(&ds));
      if (rc < 0) return fail("cannot read its state", o.kind, o.virt, o.key, rc), false;
      perm(ds.sem_perm);
      r.size = ds.sem_nsems;
      char* values = data.grow_for(ds.sem_nsems * sizeof(uint16_t));
      if (!values) return fail("no memory for its values", o.kind, o.virt, o.key, 0), false;
      rc = raw_syscall(SYS_semctl, o.real, 0, GETALL, reinterpret_cast<long>(values));
      if (rc < 0) return fail("cannot read its values", o.kind, o.virt, o.key, rc), false;
      data.commit(ds.sem_nsems * sizeof(uint16_t));
      break;
    }
    case IpcKind::Msg: {
      struct msqid_ds ds;
      long rc = raw_syscall(SYS_msgctl, o.real, IPC_STAT, reinterpret_cast<long>(&ds));
      if (rc < 0) return fail("cannot read its state", o.kind, o.virt, o.key, rc), false;
      perm(ds.msg_perm);
      r.size = ds.__msg_cbytes;
      r.qbytes = ds.msg_qbytes;
      r.count = static_cast<uint32_t>(ds.msg_qnum);
      r.creator_vpid = ckpt_virtual_pid(ds.msg_lspid);
      // Each message: MSG_COPY copies message number i and leaves it queued
      // (CONFIG_CHECKPOINT_RESTORE). The kernel writes {mtype, text} 8 bytes
      // into the SysvMessage slot; mtype then moves to its place.
      const size_t text_room = ds.__msg_cbytes + 1;
      for (uint32_t i = 0; i < r.count; ++i) {
        char* slot = data.grow_for(sizeof(SysvMessage) + text_room + 8);
        if (!slot) return fail("no memory for its messages", o.kind, o.virt, o.key, 0), false;
        long len = raw_syscall(SYS_msgrcv, o.real, reinterpret_cast<long>(slot + 8), static_cast<long>(text_room), i,
                               IPC_NOWAIT | MSG_COPY);
        if (len == -ENOSYS)
          return fail("this kernel cannot read messages without taking them (msgrcv MSG_COPY needs "
                      "CONFIG_CHECKPOINT_RESTORE)", o.kind, o.virt, o.key, 0), false;
        if (len < 0) return fail("cannot copy its messages", o.kind, o.virt, o.key, len), false;
        SysvMessage m;
        memcpy(&m.type, slot + 8, sizeof m.type);
        m.len = static_cast<uint64_t>(len);
        memcpy(slot, &m, sizeof m);
        size_t padded = sizeof m + ((m.len + 7) & ~uint64_t{7});
        memset(slot + sizeof m + m.len, 0, padded - sizeof m - m.len);
        data.commit(padded);
      }
      break;
    }
  }
  r.data_len = data.size() - r.data_offset;
  return true;
}

// The saver's part: every object of the table and every adjustment.
void save_objects(MappedBuffer& records, MappedBuffer& adjustments, MappedBuffer& data, uint32_t& objects,
                  uint32_t& adjs) {
  g_table.lock();
  // Objects the kernel no longer has (removed by a program outside the
  // computation, or a segment whose last attachment went) leave the table.
  g_table.for_each_object([](SysvObject& o) {
    long rc = 0;
    struct shmid_ds shm;
    struct semid_ds sem;
    struct msqid_ds msg;
    switch (o.kind) {
      case IpcKind::Shm: rc = raw_syscall(SYS_shmctl, o.real, IPC_STAT, reinterpret_cast<long>(&shm)); break;
      case IpcKind::Sem: rc = raw_syscall(SYS_semctl, o.real, 0, IPC_STAT, reinterpret_cast<long>(&sem)); break;
      case IpcKind::Msg: rc = raw_syscall(SYS_msgctl, o.real, IPC_STAT, reinterpret_cast<long>(&msg)); break;
    }
    if (rc == -EINVAL || rc == -EIDRM) g_table.remove(&o);
  });
  bool ok = true;
  g_table.for_each_object([&](SysvObject& o) {
    if (!ok) return;
    SysvObjectRecord r;
    ok = save_object(o, r, data) && records.append(&r, sizeof r) != MappedBuffer::kFailed;
    if (ok) ++objects;
  });
  g_table.for_each_adjustment([&](SysvAdjustment& a) {
    if (!ok || !process_alive(a.vpid) || !g_table.find_virtual(IpcKind::Sem, a.virt_semid)) return;
    SysvAdjRecord r{a.vpid, a.virt_semid, a.semnum, a.adj};
    ok = adjustments.append(&r, sizeof r) != MappedBuffer::kFailed;
    if (ok) ++adjs;
  });
  g_table.unlock();
  if (!ok) ckpt_fail_checkpoint("System V: no memory for the objects' records");
}

void save_sysv_section() {
  if (!active() || !list_attaches()) return;
  SysvSectionHeader h{};
  h.version = kSysvSectionVersion;
  h.attach_count = static_cast<uint32_t>(g_attach_count);
  memcpy(h.table_path, g_path, sizeof h.table_path);  // same size, NUL-terminated
  MappedBuffer records, adjustments, data, section;
  if (is_saver()) {
    h.saver = 1;
    save_objects(records, adjustments, data, h.object_count, h.adjustment_count);
  }
  h.data_bytes = data.size();
  if (section.append(&h, sizeof h) == MappedBuffer::kFailed ||
      section.append(g_attaches, g_attach_count * sizeof(SysvAttach)) == MappedBuffer::kFailed ||
      section.append(records.at<char>(0), records.size()) == MappedBuffer::kFailed ||
      section.append(adjustments.at<char>(0), adjustments.size()) == MappedBuffer::kFailed ||
      section.append(data.at<char>(0), data.size()) == MappedBuffer::kFailed)
    ckpt_fail_checkpoint("System V: no memory for section sysv");
  else
    ckpt_save_section(kSysvSection, section.at<char>(0), section.size());
  records.release();
  adjustments.release();
  data.release();
  section.release();
}

// ---- restart ----

// The kernel's semadj of this process for each semaphore it had one for: a
// semop that leaves the value alone (+adj without SEM_UNDO, -adj with it,
// the increase first) sets it.
void reapply_adjustments() {
  const pid_t me = self_vpid();
  g_table.for_each_adjustment([me](SysvAdjustment& a) {
    if (a.vpid != me) return;
    SysvObject* o = g_table.find_virtual(IpcKind::Sem, a.virt_semid);
    if (!o || a.adj == 0) return;
    short magnitude = static_cast<short>(a.adj > 0 ? a.adj : -a.adj);
    struct sembuf ops[2];
    if (a.adj > 0) {
      ops[0] = {static_cast<unsigned short>(a.semnum), magnitude, IPC_NOWAIT};
      ops[1] = {static_cast<unsigned short>(a.semnum), static_cast<short>(-magnitude), IPC_NOWAIT | SEM_UNDO};
    } else {
      ops[0] = {static_cast<unsigned short>(a.semnum), magnitude, IPC_NOWAIT | SEM_UNDO};
      ops[1] = {static_cast<unsigned short>(a.semnum), static_cast<short>(-magnitude), IPC_NOWAIT};
    }
    long rc = raw_syscall(SYS_semtimedop, o->real, reinterpret_cast<long>(ops), 2, 0);
    if (rc < 0) {
      ShortText t;
      t.add("System V sem ").dec(a.virt_semid).add(" semaphore ").dec(a.semnum)
          .add(": cannot set this process's SEM_UNDO adjustment again: ").add(strerror(static_cast<int>(-rc)));
      ckpt_log_warning(t.c_str());
    }
  });
}

void adopt_restored() {
  g_restarted = true;
  void* where = g_table.address();
  if (!where) return;
  if (!g_table.attach(where)) {
    ckpt_log_warning("System V: no id table where this process had one; ids are the kernel's");
    return;
  }
  learn_mapped_path(where);
  g_table.lock();
  reapply_adjustments();
  g_table.unlock();
  share_membership();
}

// Once every process attached its segments again (the first RESUME after a
// restart follows a barrier), the saver marks the ones that were marked.
void remark_removed() {
  g_restarted = false;
  if (!active() || !is_saver()) return;
  g_table.lock();
  g_table.for_each_object([](SysvObject& o) {
    if (!(o.flags & kRemoveAfterRestart)) return;
    o.flags &= ~kRemoveAfterRestart;
    long rc = raw_syscall(SYS_shmctl, o.real, IPC_RMID, 0);
    if (rc < 0) {
      ShortText t;
      t.add("System V shm ").dec(o.virt).add(": cannot mark it for removal again: ").add(strerror(static_cast<int>(-rc)));
      ckpt_log_warning(t.c_str());
    }
  });
  g_table.unlock();
}

void export_table_path() {
  if (!active() || !g_path[0]) return;
  const char* current = getenv(CKPT_ENV_SYSVTABLE);
  if (!current || strcmp(current, g_path) != 0) setenv(CKPT_ENV_SYSVTABLE, g_path, 1);
}

// The kernel applies an exiting process's adjustments; the last process of
// the computation removes the table file.
void leave_at_exit() {
  if (!active()) return;
  const pid_t me = self_vpid();
  {
    TableChange change;
    g_table.drop_process(me);
  }
  int others = 0;
  ckpt_for_each_process(
      [](pid_t, pid_t real, void* arg) {
        if (real != static_cast<pid_t>(raw_syscall(SYS_getpid)) && raw_syscall(SYS_kill, real, 0) == 0)
          ++*static_cast<int*>(arg);
        return 0;
      },
      &others);
  if (others == 0 && g_path[0]) unlink(g_path);
}

void forked_child() {
  if (!active()) return;
  TableChange change;
  g_table.drop_process(self_vpid());  // a new process has no adjustments (a stale entry of a reused pid goes)
}

void sysv_event(ckpt_event_t event, void*) {
  switch (event) {
    case CKPT_EVENT_INIT: start(); break;
    case CKPT_EVENT_FORK_CHILD: forked_child(); break;
    case CKPT_EVENT_PRE_CHECKPOINT: share_membership(); break;
    case CKPT_EVENT_DRAIN: save_sysv_section(); break;
    case CKPT_EVENT_RESTART: adopt_restored(); break;
    case CKPT_EVENT_RESUME:
      if (g_restarted) remark_removed();
      break;
    case CKPT_EVENT_RESTART_RESUMED: export_table_path(); break;
    case CKPT_EVENT_EXIT: leave_at_exit(); break;
    default: break;
  }
}

const ckpt_plugin g_plugin = {"sysv", sysv_event};

__attribute__((constructor(203))) void register_sysv_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace

bool active() { return g_table.is_open(); }
SysvTable& table() { return g_table; }

int to_real(IpcKind kind, int virt) {
  SysvObject* o = g_table.find_virtual(kind, virt);
  return o ? o->real : virt;
}

int to_virtual(IpcKind kind, int real) {
  SysvObject* o = g_table.find_real(kind, real);
  return o ? o->virt : real;
}

TableChange::TableChange() {
  ckpt_delay_checkpoints();
  g_table.lock();
}

TableChange::~TableChange() {
  g_table.unlock();
  ckpt_allow_checkpoints();
}

}  // namespace ckpt::sysv
