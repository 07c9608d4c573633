// The sysv kind's restart side (ckpt/restart.h): makes every saved System V
// object again (with its permissions, contents, values or messages) and a
// new id table mapping the application's ids to the new kernel ones, which
// every process maps where it had the old table. region_source attaches
// each process's segments where they were, before its address space is
// replaced; the restored processes set their SEM_UNDO adjustments
// themselves (sysv_plugin.cpp, CKPT_EVENT_RESTART).
//
// Keys: an object is made with its key. An object of the checkpointed
// computation that is still there (the computation was killed, SysV objects
// outlive it) is removed first, when it is provably that one: the same id,
// key and creator uid, no attachment, and the computation's pid table gone
// (its processes are dead). If another program holds the key, the object is
// made IPC_PRIVATE and the table answers the application's xxxget(key).
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <deque>
#include <map>

#include "ckpt/restart.h"
#include "sysv_image.h"
#include "sysv_table.h"

namespace ckpt {
namespace {

using sysv::IpcKind;
using sysv::SysvObjectRecord;
using sysv::SysvSectionData;

std::string describe(const SysvObjectRecord& o) {
  char key[16];
  snprintf(key, sizeof key, "0x%08x", static_cast<uint32_t>(o.key));
  return std::string("System V ") + sysv::kind_name(o.kind) + " " + std::to_string(o.virt) + " (key " + key + ")";
}

std::string errno_text() { return std::strerror(errno); }

// One table: the processes that mapped it and the saver's section.
struct TableGroup {
  std::string old_path;
  std::vector<std::string> pid_tables;  // of its processes, old paths
  const SysvSectionData* saved = nullptr;
  std::string saver_image;
  std::string host;  // the processes' host, from the saver's image
  // Made by create():
  std::string new_path;
  sysv::SysvTable table;
};

// The kernel's state of an object, for the checks below.
struct KernelState {
  bool exists = false;
  key_t key = 0;
  uid_t cuid = 0;
  unsigned long nattch = 0;
};

KernelState kernel_state(IpcKind kind, int id) {
  KernelState k;
  switch (kind) {
    case IpcKind::Shm: {
      struct shmid_ds ds;
      if (shmctl(id, IPC_STAT, &ds) == 0) k = {true, ds.shm_perm.__key, ds.shm_perm.cuid, ds.shm_nattch};
      break;
    }
    case IpcKind::Sem: {
      struct semid_ds ds;
      if (semctl(id, 0, IPC_STAT, &ds) == 0) k = {true, ds.sem_perm.__key, ds.sem_perm.cuid, 0};
      break;
    }
    case IpcKind::Msg: {
      struct msqid_ds ds;
      if (msgctl(id, IPC_STAT, &ds) == 0) k = {true, ds.msg_perm.__key, ds.msg_perm.cuid, 0};
      break;
    }
  }
  return k;
}

int remove_object(IpcKind kind, int id) {
  switch (kind) {
    case IpcKind::Shm: return shmctl(id, IPC_RMID, nullptr);
    case IpcKind::Sem: return semctl(id, 0, IPC_RMID);
    case IpcKind::Msg: return msgctl(id, IPC_RMID, nullptr);
  }
  return -1;
}

int get_object(const SysvObjectRecord& o, key_t key, int flags) {
  switch (o.kind) {
    case IpcKind::Shm: return shmget(key, o.size, flags);
    case IpcKind::Sem: return semget(key, static_cast<int>(o.size), flags);
    case IpcKind::Msg: return msgget(key, flags);
  }
  return -1;
}

// The saved owner and mode (made with 0600 more, to fill it).
void set_owner_and_mode(const SysvObjectRecord& o, int id) {
  int rc = 0;
  switch (o.kind) {
    case IpcKind::Shm: {
      struct shmid_ds ds;
      rc = shmctl(id, IPC_STAT, &ds);
      ds.shm_perm.uid = o.uid, ds.shm_perm.gid = o.gid, ds.shm_perm.mode = o.mode & 0777;
      if (rc == 0) rc = shmctl(id, IPC_SET, &ds);
      break;
    }
    case IpcKind::Sem: {
      struct semid_ds ds;
      rc = semctl(id, 0, IPC_STAT, &ds);
      ds.sem_perm.uid = o.uid, ds.sem_perm.gid = o.gid, ds.sem_perm.mode = o.mode & 0777;
      if (rc == 0) rc = semctl(id, 0, IPC_SET, &ds);
      break;
    }
    case IpcKind::Msg: {
      struct msqid_ds ds;
      rc = msgctl(id, IPC_STAT, &ds);
      ds.msg_perm.uid = o.uid, ds.msg_perm.gid = o.gid, ds.msg_perm.mode = o.mode & 0777;
      if (rc == 0) rc = msgctl(id, IPC_SET, &ds);
      break;
    }
  }
  if (rc != 0)
    throw RestartError("cannot give " + describe(o) + " its owner " + std::to_string(o.uid) + ":" +
                       std::to_string(o.gid) + " and mode " + std::to_string(o.mode & 0777) + ": " + errno_text());
}

void fill(const SysvObjectRecord& o, int id, const SysvSectionData& s) {
  std::span<const uint8_t> bytes = s.contents(o);
  switch (o.kind) {
    case IpcKind::Shm: {
      void* at = shmat(id, nullptr, 0);
      if (at == reinterpret_cast<void*>(-1)) throw RestartError("cannot attach " + describe(o) + " to fill it: " + errno_text());
      std::memcpy(at, bytes.data(), bytes.size());
      shmdt(at);
      break;
    }
    case IpcKind::Sem: {
      std::vector<unsigned short> values(o.size);
      std::memcpy(values.data(), bytes.data(), bytes.size());
      if (semctl(id, 0, SETALL, values.data()) != 0)
        throw RestartError("cannot set the values of " + describe(o) + ": " + errno_text());
      break;
    }
    case IpcKind::Msg: {
      struct msqid_ds ds;
      if (msgctl(id, IPC_STAT, &ds) == 0 && ds.msg_qbytes != o.qbytes) {
        ds.msg_qbytes = o.qbytes;
        msgctl(id, IPC_SET, &ds);  // above msgmnb needs CAP_SYS_RESOURCE; the messages may fit anyway
      }
      std::vector<sysv::SysvMessageView> messages;
      sysv::read_messages(bytes, o.count, messages);
      std::vector<uint8_t> buf;
      for (size_t i = 0; i < messages.size(); ++i) {
        buf.resize(sizeof(long) + messages[i].text.size());
        long type = messages[i].type;
        std::memcpy(buf.data(), &type, sizeof type);
        std::memcpy(buf.data() + sizeof type, messages[i].text.data(), messages[i].text.size());
        if (msgsnd(id, buf.data(), messages[i].text.size(), IPC_NOWAIT) != 0)
          throw RestartError("cannot queue message " + std::to_string(i + 1) + " of " +
                             std::to_string(messages.size()) + " again on " + describe(o) + ": " + errno_text());
      }
      break;
    }
  }
}

class SysvRestart : public RestartKind {
 public:
  const char* name() const override { return "sysv"; }
  // After the pid kind (its new table and sweep of dead ones), before the
  // shm kind (which would otherwise write the old table file back).
  int rank() const override { return 20; }

  void check(RestartContext& ctx) override {
    sections_.clear();
    groups_.clear();
    by_process_.assign(ctx.processes.size(), nullptr);
    for (size_t i = 0; i < ctx.processes.size(); ++i) {
      const RestartProcess& p = ctx.processes[i];
      for (const image::Section& s : p.image->sections()) {
        if (s.name != sysv::kSysvSection) continue;
        if (by_process_[i]) throw RestartError("image " + p.image->path() + " has two sysv sections");
        SysvSectionData& d = sections_.emplace_back();
        by_process_[i] = &d;
        std::string why = sysv::read_sysv_section(s.data, d);
        if (!why.empty()) throw RestartError("image " + p.image->path() + ": " + why);
        if (d.table_path.empty() || d.table_path[0] != '/' || d.table_path.find("/../") != std::string::npos)
          throw RestartError("image " + p.image->path() + ": section sysv names no usable id table");
        TableGroup& g = groups_[d.table_path];
        g.old_path = d.table_path;
        if (!p.ids.pidtable_path.empty()) g.pid_tables.push_back(p.ids.pidtable_path);
        if (d.header.saver) {
          if (g.saved)
            throw RestartError("images " + g.saver_image + " and " + p.image->path() +
                               " both hold the System V objects of " + d.table_path);
          g.saved = &d;
          g.saver_image = p.image->path();
          g.host.assign(p.image->process().hostname, strnlen(p.image->process().hostname, sizeof p.image->process().hostname));
        }
      }
    }
    for (auto& [path, g] : groups_)
      if (!g.saved)
        throw RestartError("no image holds the System V objects of the computation that used " + path +
                           " (the image of its process with the lowest pid is missing)");
  }

  void create(RestartContext& ctx) override {
    for (auto& [path, g] : groups_) create_group(ctx, g);
  }

  // In the restored process, before its address space is replaced: each
  // segment it had attached, attached again at `stage_at` (the part it had
  // mapped, with its protection), for the restorer to move into place.
  bool region_source(const RestartContext&, size_t process, const image::Region& r, uint64_t stage_at,
                     RegionSource& out) override {
    if (process >= by_process_.size() || !by_process_[process] || r.path.rfind("/SYSV", 0) != 0) return false;
    const SysvSectionData& d = *by_process_[process];
    for (const sysv::SysvAttach& a : d.attaches) {
      if (a.start != r.rec.start || a.end != r.rec.end) continue;
      const sysv::SysvObject* o = groups_.at(d.table_path).table.find_virtual(IpcKind::Shm, a.virt_shmid);
      char where[64];
      snprintf(where, sizeof where, " at 0x%" PRIx64, a.start);
      const std::string what = "System V shm " + std::to_string(a.virt_shmid) + where;
      if (!o) throw RestartError(what + " is not among the saved segments");
      const int flags = (a.prot & PROT_WRITE ? 0 : SHM_RDONLY) | (a.prot & PROT_EXEC ? SHM_EXEC : 0);
      void* at = shmat(o->real, nullptr, flags);
      if (at == reinterpret_cast<void*>(-1)) throw RestartError("cannot attach " + what + " again: " + errno_text());
      struct shmid_ds ds;
      if (shmctl(o->real, IPC_STAT, &ds) != 0) throw RestartError("cannot read " + what + ": " + errno_text());
      // shmat maps the whole segment: the mapped part moves to the stage, the rest goes.
      const uint64_t len = a.end - a.start, whole = (ds.shm_segsz + 4095) & ~uint64_t{4095};
      char* base = static_cast<char*>(at);
      if (a.offset > whole || len > whole - a.offset) {
        shmdt(at);
        throw RestartError(what + ": the saved mapping lies outside the segment");
      }
      void* moved = mremap(base + a.offset, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, reinterpret_cast<void*>(stage_at));
      int err = errno;
      if (a.offset > 0) munmap(base, a.offset);
      if (a.offset + len < whole) munmap(base + a.offset + len, whole - a.offset - len);
      if (moved == MAP_FAILED) throw RestartError("cannot stage " + what + ": " + std::strerror(err));
      mprotect(moved, len, static_cast<int>(a.prot));
      out.staged = true;
      return true;
    }
    return false;
  }

  void finish(RestartContext&) override {
    for (auto& [path, g] : groups_) g.table.close();
    made_.clear();
  }

  void abort(RestartContext&) override {
    for (auto& [kind, id] : made_) remove_object(kind, id);
    made_.clear();
    for (auto& [path, g] : groups_) {
      g.table.close();
      if (!g.new_path.empty()) unlink(g.new_path.c_str());
    }
  }

 private:
  // Whether the checkpointed computation is over: the pid kind removed the
  // pid table of a computation whose processes are all gone.
  static bool computation_over(const TableGroup& g) {
    struct stat st;
    for (const std::string& p : g.pid_tables)
      if (stat(p.c_str(), &st) == 0) return false;
    return true;
  }

  void create_group(RestartContext& ctx, TableGroup& g) {
    const bool over = computation_over(g);
    std::string dir = g.old_path.substr(0, g.old_path.rfind('/'));
    std::string pid_table = g.pid_tables.empty() ? "" : ctx.paths.apply(g.pid_tables[0]);
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    long rc = -ENOENT;
    for (const std::string& d : {dir.empty() ? std::string("/") : dir, std::string("/dev/shm"), std::string("/tmp")}) {
      char name[4200];
      sysv::sysv_table_name(name, sizeof name, d.c_str(), static_cast<unsigned>(getuid()), static_cast<int>(getpid()),
                            now.tv_sec, now.tv_nsec);
      if ((rc = sysv::SysvTable::create(name, pid_table.c_str(), g.host.c_str(), g.table)) == 0) {
        g.new_path = name;
        break;
      }
    }
    if (g.new_path.empty())
      throw RestartError("cannot create a System V id table (tried " + dir + ", /dev/shm, /tmp): " +
                         std::strerror(static_cast<int>(-rc)));
    const SysvSectionData& s = *g.saved;
    for (const SysvObjectRecord& o : s.objects) {
      if (g.table.find_virtual(o.kind, o.virt)) throw RestartError(g.saver_image + ": " + describe(o) + " is saved twice");
      uint32_t flags = 0;
      int id = make(o, s, over, flags);
      if (!g.table.insert({1, o.kind, o.virt, id, o.key, flags, o.kind == IpcKind::Shm ? o.creator_vpid : 0, 0}))
        throw RestartError("the System V id table " + g.new_path + " is full");
    }
    for (const sysv::SysvAdjRecord& a : s.adjustments)
      if (!g.table.find_virtual(IpcKind::Sem, a.virt_semid) || !g.table.add_adjustment(a.vpid, a.virt_semid, a.semnum, a.adj))
        throw RestartError(g.saver_image + ": a SEM_UNDO adjustment of process " + std::to_string(a.vpid) +
                           " names no saved semaphore set, or the table is full");
    ctx.paths.add_exact(g.old_path, g.new_path);
    if (over) unlink(g.old_path.c_str());
  }

  int make(const SysvObjectRecord& o, const SysvSectionData& s, bool over, uint32_t& flags) {
    const bool removed = o.kind == IpcKind::Shm && (o.flags & sysv::kRecordRemoved);
    const key_t kernel_key = (removed || (o.flags & sysv::kRecordKeyElsewhere)) ? IPC_PRIVATE : o.key;
    if (over && o.real >= 0) {
      KernelState k = kernel_state(o.kind, o.real);
      if (k.exists && k.key == kernel_key && k.cuid == o.cuid && k.nattch == 0) remove_object(o.kind, o.real);
    }
    const int create = IPC_CREAT | IPC_EXCL | static_cast<int>(o.mode & 0777) | 0600;
    int id = -1;
    if (kernel_key != IPC_PRIVATE) {
      id = get_object(o, kernel_key, create);
      if (id < 0 && errno == EEXIST) flags |= sysv::kKeyElsewhere;
    } else if (o.flags & sysv::kRecordKeyElsewhere) {
      flags |= sysv::kKeyElsewhere;
    }
    if (id < 0 && (kernel_key == IPC_PRIVATE || errno == EEXIST)) id = get_object(o, IPC_PRIVATE, create);
    if (id < 0) throw RestartError("cannot make " + describe(o) + " again: " + errno_text());
    made_.push_back({o.kind, id});
    fill(o, id, s);
    set_owner_and_mode(o, id);
    if (removed) flags |= sysv::kRemoveAfterRestart;
    return id;
  }

  std::deque<SysvSectionData> sections_;
  std::vector<const SysvSectionData*> by_process_;  // each process's section, or null  // stable addresses: groups point into it
  std::map<std::string, TableGroup> groups_;
  std::vector<std::pair<IpcKind, int>> made_;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::SysvRestart)
