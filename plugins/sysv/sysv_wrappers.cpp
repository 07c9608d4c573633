// The System V IPC calls, on virtual ids (sysv_table.h).
//
// xxxget records the object in the shared table and returns its virtual id;
// after a restart a key whose object had to be made IPC_PRIVATE (another
// program held the key) is answered from the table. Every call that takes
// an id translates it; IPC_STAT, SHM_STAT, MSG_STAT and GETPID give back
// virtual ids and pids; IPC_RMID, SETVAL and SETALL update the table.
//
// semop, semtimedop, msgsnd and msgrcv block, and the kernel never restarts
// them after a signal handler (signal(7)): when the suspend signal
// interrupted one (ckpt_translated_call_*), it is issued again with the id
// translated again (a restart may have changed it). A semtimedop issued
// again waits its whole timeout again: a checkpoint can lengthen a timed
// wait, never cut it short.
//
// SEM_UNDO: the kernel keeps each process's adjustments (semadj) but shows
// them nowhere, so the wrapper records them, and the operation and its record
// must not be cut by a checkpoint. Such a semop runs inside
// ckpt_delay_checkpoints() in slices of at most 20 ms: a checkpoint waits
// for the slice to end, never for the whole wait.
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "sysv_state.h"

using namespace ckpt::sysv;

namespace {

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

int64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

long result(long rc) {
  if (rc < 0 && rc > -4096) {
    errno = static_cast<int>(-rc);
    return -1;
  }
  return rc;
}

// xxxget: the object for `key`, recorded. `get(key)` is the kernel's call.
template <typename Get>
int get_object(IpcKind kind, key_t key, int flags, Get get) {
  if (!active()) return static_cast<int>(result(get(key)));
  TableChange change;
  if (key != IPC_PRIVATE) {
    if (SysvObject* o = table().find_virtual_key(kind, key)) {
      if ((flags & IPC_CREAT) && (flags & IPC_EXCL)) {
        errno = EEXIST;
        return -1;
      }
      return o->virt;
    }
  }
  long real = get(key);
  if (real < 0) return static_cast<int>(result(real));
  int virt = table().record(kind, static_cast<int>(real), key);
  if (virt < 0) {
    ckpt_log_warning("System V: the id table is full; an object is left out (a checkpoint will fail)");
    return static_cast<int>(real);
  }
  return virt;
}

int real_id(IpcKind kind, int virt) { return active() ? to_real(kind, virt) : virt; }

// A blocking call on id `virt`, issued again after a checkpoint interrupted it.
template <typename Call>
long blocking(IpcKind kind, int virt, Call call) {
  for (;;) {
    const ckpt_call_mark mark = ckpt_translated_call_begin();
    long rc = call(real_id(kind, virt));
    int err = errno;
    ckpt_translated_call_end();
    if (rc >= 0 || err != EINTR || !ckpt_translated_call_interrupted(mark, 0)) {
      errno = err;
      return rc;
    }
  }
}

// What IPC_STAT shows that a restart changed: the key of an object made
// IPC_PRIVATE because another program held it, a segment's creator.
void restore_view(IpcKind kind, int real, struct ipc_perm& perm, pid_t* creator) {
  SysvObject* o = table().find_real(kind, real);
  if (!o) return;
  if (o->flags & kKeyElsewhere) perm.__key = o->key;
  if (creator && o->creator_vpid) *creator = o->creator_vpid;
}

// The object left the kernel (IPC_RMID): it leaves the table.
void forget(IpcKind kind, int virt) {
  if (SysvObject* o = table().find_virtual(kind, virt)) table().remove(o);
}

bool has_undo(const struct sembuf* ops, size_t n, bool& nowait) {
  if (!ckpt_readable_user_memory(ops, n * sizeof *ops)) return false;
  bool undo = false;
  nowait = false;
  for (size_t i = 0; i < n; ++i) {
    if (ops[i].sem_flg & SEM_UNDO) undo = true;
    if (ops[i].sem_flg & IPC_NOWAIT) nowait = true;
  }
  return undo;
}

using SemtimedopFn = int (*)(int, struct sembuf*, size_t, const struct timespec*);

int semop_with_undo(SemtimedopFn real, int id, struct sembuf* ops, size_t n, const struct timespec* tmo, bool nowait) {
  constexpr int64_t kSliceNs = 20'000'000;
  int64_t remaining = tmo && ckpt_readable_user_memory(tmo, sizeof *tmo)
                          ? tmo->tv_sec * 1'000'000'000LL + tmo->tv_nsec
                          : -1;
  const pid_t me = ckpt_virtual_pid(static_cast<pid_t>(ckpt::raw_syscall(SYS_getpid)));
  for (;;) {
    int64_t slice = remaining >= 0 && remaining < kSliceNs ? remaining : kSliceNs;
    struct timespec ts = {0, static_cast<long>(slice)};
    ckpt_delay_checkpoints();
    int64_t began = now_ns();
    int rc = real(real_id(IpcKind::Sem, id), ops, n, &ts);
    int err = errno;
    if (rc == 0) {
      table().lock();
      for (size_t i = 0; i < n; ++i)
        if ((ops[i].sem_flg & SEM_UNDO) && ops[i].sem_op != 0 &&
            !table().add_adjustment(me, id, ops[i].sem_num, -ops[i].sem_op))
          ckpt_log_warning("System V: the SEM_UNDO table is full; an adjustment is left out");
      table().unlock();
    }
    ckpt_allow_checkpoints();
    if (rc == 0) return 0;
    int64_t took = now_ns() - began;
    // EAGAIN before the slice ended: an operation with IPC_NOWAIT would block.
    if (err != EAGAIN || (nowait && took < slice / 2)) {
      errno = err;
      return -1;
    }
    if (remaining >= 0) {
      remaining -= took;
      if (remaining <= 0) {
        errno = EAGAIN;
        return -1;
      }
    }
  }
}

}  // namespace

extern "C" {

int shmget(key_t key, size_t size, int flags) {
  return get_object(IpcKind::Shm, key, flags,
                    [&](key_t k) { return ckpt::raw_syscall(SYS_shmget, k, static_cast<long>(size), flags); });
}

int semget(key_t key, int nsems, int flags) {
  return get_object(IpcKind::Sem, key, flags, [&](key_t k) { return ckpt::raw_syscall(SYS_semget, k, nsems, flags); });
}

int msgget(key_t key, int flags) {
  return get_object(IpcKind::Msg, key, flags, [&](key_t k) { return ckpt::raw_syscall(SYS_msgget, k, flags); });
}

void* shmat(int id, const void* addr, int flags) {
  if (!active()) return reinterpret_cast<void*>(result(ckpt::raw_syscall(SYS_shmat, id, reinterpret_cast<long>(addr), flags)));
  TableChange change;  // an attachment the table must know before a checkpoint lists it
  const int real = to_real(IpcKind::Shm, id);
  long at = ckpt::raw_syscall(SYS_shmat, real, reinterpret_cast<long>(addr), flags);
  if (at >= 0 || at <= -4096) {
    if (!table().find_real(IpcKind::Shm, real)) {
      struct shmid_ds ds;
      long rc = ckpt::raw_syscall(SYS_shmctl, real, IPC_STAT, reinterpret_cast<long>(&ds));
      table().record(IpcKind::Shm, real, rc == 0 ? ds.shm_perm.__key : IPC_PRIVATE);
    }
  }
  return reinterpret_cast<void*>(result(at));
}

int shmctl(int id, int cmd, struct shmid_ds* buf) {
  if (!active()) return static_cast<int>(result(ckpt::raw_syscall(SYS_shmctl, id, cmd, reinterpret_cast<long>(buf))));
  TableChange change;
  const bool by_index = cmd == SHM_STAT || cmd == SHM_STAT_ANY || cmd == IPC_INFO || cmd == SHM_INFO;
  long rc = ckpt::raw_syscall(SYS_shmctl, by_index ? id : to_real(IpcKind::Shm, id), cmd, reinterpret_cast<long>(buf));
  if (rc < 0) return static_cast<int>(result(rc));
  if (cmd == IPC_STAT || cmd == SHM_STAT || cmd == SHM_STAT_ANY) {
    buf->shm_cpid = ckpt_virtual_pid(buf->shm_cpid);
    buf->shm_lpid = ckpt_virtual_pid(buf->shm_lpid);
    restore_view(IpcKind::Shm, cmd == IPC_STAT ? to_real(IpcKind::Shm, id) : static_cast<int>(rc), buf->shm_perm,
                 &buf->shm_cpid);
    if (cmd != IPC_STAT) rc = to_virtual(IpcKind::Shm, static_cast<int>(rc));
  }
  if (cmd == IPC_RMID) {
    // Gone now unless still attached (the saver drops it once it is gone);
    // either way its key is free.
    struct shmid_ds ds;
    int real = to_real(IpcKind::Shm, id);
    if (ckpt::raw_syscall(SYS_shmctl, real, IPC_STAT, reinterpret_cast<long>(&ds)) < 0) {
      forget(IpcKind::Shm, id);
    } else if (SysvObject* o = table().find_virtual(IpcKind::Shm, id)) {
      o->key = IPC_PRIVATE;
      o->flags &= ~kKeyElsewhere;
    }
  }
  return static_cast<int>(rc);
}

int semctl(int id, int semnum, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  unsigned long arg = va_arg(ap, unsigned long);  // union semun: an int or a pointer
  va_end(ap);
  if (!active()) return static_cast<int>(result(ckpt::raw_syscall(SYS_semctl, id, semnum, cmd, static_cast<long>(arg))));
  TableChange change;
  const bool by_index = cmd == SEM_STAT || cmd == SEM_STAT_ANY || cmd == IPC_INFO || cmd == SEM_INFO;
  long rc = ckpt::raw_syscall(SYS_semctl, by_index ? id : to_real(IpcKind::Sem, id), semnum, cmd, static_cast<long>(arg));
  if (rc < 0) return static_cast<int>(result(rc));
  if ((cmd == IPC_STAT || cmd == SEM_STAT || cmd == SEM_STAT_ANY) && arg)
    restore_view(IpcKind::Sem, cmd == IPC_STAT ? to_real(IpcKind::Sem, id) : static_cast<int>(rc),
                 reinterpret_cast<struct semid_ds*>(arg)->sem_perm, nullptr);
  switch (cmd) {
    case SEM_STAT:
    case SEM_STAT_ANY: rc = to_virtual(IpcKind::Sem, static_cast<int>(rc)); break;
    case GETPID: rc = ckpt_virtual_pid(static_cast<pid_t>(rc)); break;
    // The kernel clears every process's adjustment of what it sets.
    case SETVAL: table().clear_adjustments(id, semnum); break;
    case SETALL: table().clear_adjustments(id, -1); break;
    case IPC_RMID: forget(IpcKind::Sem, id); break;
    default: break;
  }
  return static_cast<int>(rc);
}

int msgctl(int id, int cmd, struct msqid_ds* buf) {
  if (!active()) return static_cast<int>(result(ckpt::raw_syscall(SYS_msgctl, id, cmd, reinterpret_cast<long>(buf))));
  TableChange change;
  const bool by_index = cmd == MSG_STAT || cmd == MSG_STAT_ANY || cmd == IPC_INFO || cmd == MSG_INFO;
  long rc = ckpt::raw_syscall(SYS_msgctl, by_index ? id : to_real(IpcKind::Msg, id), cmd, reinterpret_cast<long>(buf));
  if (rc < 0) return static_cast<int>(result(rc));
  if (cmd == IPC_STAT || cmd == MSG_STAT || cmd == MSG_STAT_ANY) {
    buf->msg_lspid = ckpt_virtual_pid(buf->msg_lspid);
    buf->msg_lrpid = ckpt_virtual_pid(buf->msg_lrpid);
    restore_view(IpcKind::Msg, cmd == IPC_STAT ? to_real(IpcKind::Msg, id) : static_cast<int>(rc), buf->msg_perm, nullptr);
    if (cmd != IPC_STAT) rc = to_virtual(IpcKind::Msg, static_cast<int>(rc));
  }
  if (cmd == IPC_RMID) forget(IpcKind::Msg, id);
  return static_cast<int>(rc);
}

int semtimedop(int id, struct sembuf* ops, size_t n, const struct timespec* tmo) {
  static auto real = next<SemtimedopFn>("semtimedop");
  bool nowait = false;
  if (active() && has_undo(ops, n, nowait)) return semop_with_undo(real, id, ops, n, tmo, nowait);
  return static_cast<int>(
      blocking(IpcKind::Sem, id, [&](int real_id) { return static_cast<long>(real(real_id, ops, n, tmo)); }));
}

int semop(int id, struct sembuf* ops, size_t n) { return semtimedop(id, ops, n, nullptr); }

ssize_t msgrcv(int id, void* msg, size_t size, long type, int flags) {
  static auto real = next<ssize_t (*)(int, void*, size_t, long, int)>("msgrcv");
  return blocking(IpcKind::Msg, id, [&](int real_id) { return static_cast<long>(real(real_id, msg, size, type, flags)); });
}

int msgsnd(int id, const void* msg, size_t size, int flags) {
  static auto real = next<int (*)(int, const void*, size_t, int)>("msgsnd");
  return static_cast<int>(
      blocking(IpcKind::Msg, id, [&](int real_id) { return static_cast<long>(real(real_id, msg, size, flags)); }));
}

}  // extern "C"
