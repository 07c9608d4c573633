#include "mqueue_notify.h"

#include <errno.h>
#include <mqueue.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/netlink.h>

#include <atomic>

#include "ckpt/plugin.h"
#include "ckpt/sigev_thread.h"
#include "ckpt/raw_syscall.h"

namespace ckpt::mqueue {
namespace {

constexpr int kMaxRegistrations = 256;
// The kernel's cookie (NOTIFY_COOKIE_LEN) and what it writes in its last byte.
constexpr size_t kCookieBytes = 32;
constexpr uint8_t kWokenUp = 1;
constexpr uint32_t kCookieMagic = 0x716d6b63;  // "ckmq"

Registration g_table[kMaxRegistrations];
// Slots below this were ever taken (under g_lock). A fork child clears only
// those: writing the whole table cost every fork ~15 page faults.
int g_used = 0;
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
// The netlink socket SIGEV_THREAD notifications arrive on (protected range;
// the number may change at restart, hence the owner pointer), and whether
// this process's helper thread runs.
int g_socket = -1;
std::atomic<bool> g_helper{false};
pid_t g_helper_process = 0;

struct Cookie {
  uint32_t magic;
  uint32_t slot;
  uint8_t pad[kCookieBytes - 8];
};
static_assert(sizeof(Cookie) == kCookieBytes);

// SIGEV_THREAD notifications that had arrived on the socket and that the
// helper had not read when a checkpoint came (take_arrived_notifications):
// slots, run by the helper once it runs again. The socket itself is not
// carried across a restart.
constexpr int kMaxArrived = 64;
int g_arrived[kMaxArrived];
std::atomic<int> g_arrived_count{0};

void start_notification(int slot) {
  pthread_mutex_lock(&g_lock);
  const Registration r = g_table[slot];
  pthread_mutex_unlock(&g_lock);
  if (!r.live || r.kind != SIGEV_THREAD || !r.function) return;
  ckpt::start_sigev_thread(r.function, r.value, r.creator_mask, r.has_attr ? &r.attr : nullptr);
}

// Reads the socket; after a restart the socket is a new one at another
// number, so a read a checkpoint interrupted is made again with g_socket.
void* helper_main(void*) {
  uint64_t mask = ~uint64_t{0} & ~(uint64_t{1} << (ckpt_suspend_signal() - 1));
  raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&mask), 0, sizeof mask);
  for (;;) {
    for (int n = g_arrived_count.exchange(0), i = 0; i < n; ++i) start_notification(g_arrived[i]);
    Cookie c;
    const int fd = __atomic_load_n(&g_socket, __ATOMIC_ACQUIRE);
    const ckpt_call_mark mark = ckpt_translated_call_begin();
    long n = raw_syscall(SYS_recvfrom, fd, reinterpret_cast<long>(&c), sizeof c, MSG_NOSIGNAL, 0, 0);
    ckpt_translated_call_end();
    if (n < 0 && (n == -EINTR || ckpt_translated_call_interrupted(mark, 1) || fd != __atomic_load_n(&g_socket, __ATOMIC_ACQUIRE)))
      continue;
    if (n < 0) {
      // No socket (it could not be made again after a restart): wait for
      // the next checkpoint or restart (pause ends with EINTR) rather than spin.
      raw_syscall(SYS_pause);
      continue;
    }
    if (n != sizeof c || c.magic != kCookieMagic || c.slot >= kMaxRegistrations) continue;
    // The kernel tells a removed registration (2) as well: nothing to run.
    if (c.pad[sizeof c.pad - 1] == kWokenUp) start_notification(static_cast<int>(c.slot));
  }
  return nullptr;
}

// The socket and the helper of this process, started on first use. Call with g_lock held.
bool start_helper() {
  if (g_helper_process == static_cast<pid_t>(raw_syscall(SYS_getpid)) && g_helper.load()) return true;
  if (g_socket < 0) {
    long fd = raw_syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return false;
    g_socket = ckpt_protect_fd(static_cast<int>(fd), &g_socket);
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, helper_main, nullptr);
  pthread_attr_destroy(&attr);
  if (rc != 0) return false;
  g_helper_process = static_cast<pid_t>(raw_syscall(SYS_getpid));
  g_helper.store(true);
  return true;
}

long raw_notify(int fd, const struct sigevent* sev) {
  return raw_syscall(SYS_mq_notify, fd, reinterpret_cast<long>(sev));
}

// The kernel's request for slot `slot`.
void kernel_request(int slot, struct sigevent& k, Cookie& cookie) {
  const Registration& r = g_table[slot];
  memset(&k, 0, sizeof k);
  k.sigev_notify = r.kind;
  k.sigev_signo = r.signo;
  k.sigev_value = r.value;
  if (r.kind == SIGEV_THREAD) {
    memset(&cookie, 0, sizeof cookie);
    cookie.magic = kCookieMagic;
    cookie.slot = static_cast<uint32_t>(slot);
    k.sigev_signo = __atomic_load_n(&g_socket, __ATOMIC_ACQUIRE);
    k.sigev_value.sival_ptr = &cookie;
  }
}

// The slot of queue (dev, ino), or a free one; -1 if the table is full.
int slot_for(uint64_t dev, uint64_t ino) {
  int free_slot = -1;
  for (int i = 0; i < kMaxRegistrations; ++i) {
    if (g_table[i].live && g_table[i].dev == dev && g_table[i].ino == ino) return i;
    if (!g_table[i].live && free_slot < 0) free_slot = i;
  }
  return free_slot;
}

}  // namespace

int find_registration(uint64_t dev, uint64_t ino) {
  for (int i = 0; i < kMaxRegistrations; ++i)
    if (g_table[i].live && g_table[i].dev == dev && g_table[i].ino == ino) return i;
  return -1;
}

const Registration& registration(int slot) { return g_table[slot]; }

long register_again(int fd, int slot) {
  struct sigevent k;
  Cookie cookie;
  kernel_request(slot, k, cookie);
  return raw_notify(fd, &k);
}

long unregister(int fd) { return raw_notify(fd, nullptr); }

bool take_arrived_notifications() {
  const int fd = __atomic_load_n(&g_socket, __ATOMIC_ACQUIRE);
  if (fd < 0 || g_helper_process != static_cast<pid_t>(raw_syscall(SYS_getpid))) return true;
  for (;;) {
    Cookie c;
    long n = raw_syscall(SYS_recvfrom, fd, reinterpret_cast<long>(&c), sizeof c, MSG_DONTWAIT, 0, 0);
    if (n < 0) return n == -EAGAIN || n == -EWOULDBLOCK;
    if (n != sizeof c || c.magic != kCookieMagic || c.slot >= kMaxRegistrations || c.pad[sizeof c.pad - 1] != kWokenUp)
      continue;
    const int count = g_arrived_count.load();
    if (count == kMaxArrived) return false;
    g_arrived[count] = static_cast<int>(c.slot);
    g_arrived_count.store(count + 1);
  }
}

void notify_forget() {
  // A thread of the parent may have held the lock at the fork.
  g_lock = PTHREAD_MUTEX_INITIALIZER;
  for (int i = 0; i < g_used; ++i) g_table[i].live = false;
  g_arrived_count.store(0);
  g_helper.store(false);
  if (g_socket >= 0) ckpt_close_protected_fd(g_socket);
  g_socket = -1;
}

bool notify_new_socket() {
  long fd = raw_syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    __atomic_store_n(&g_socket, -1, __ATOMIC_RELEASE);
    return false;
  }
  int protected_fd = ckpt_protect_fd(static_cast<int>(fd), &g_socket);
  __atomic_store_n(&g_socket, protected_fd, __ATOMIC_RELEASE);
  return true;
}

}  // namespace ckpt::mqueue

extern "C" {

int mq_notify(mqd_t fd, const struct sigevent* sev) {
  using namespace ckpt::mqueue;
  struct stat st;
  if (ckpt::raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) != 0) st.st_dev = st.st_ino = 0;
  ckpt_delay_checkpoints();
  pthread_mutex_lock(&g_lock);
  long rc;
  if (!sev) {
    rc = raw_notify(fd, nullptr);
    int slot = find_registration(st.st_dev, st.st_ino);
    if (rc == 0 && slot >= 0) g_table[slot].live = false;
  } else if (sev->sigev_notify != SIGEV_SIGNAL && sev->sigev_notify != SIGEV_NONE &&
             sev->sigev_notify != SIGEV_THREAD) {
    rc = -EINVAL;
  } else {
    int slot = slot_for(st.st_dev, st.st_ino);
    if (slot < 0 || (sev->sigev_notify == SIGEV_THREAD && !start_helper())) {
      rc = -ENOMEM;
    } else {
      if (slot >= g_used) g_used = slot + 1;
      Registration previous = g_table[slot];
      Registration& r = g_table[slot];
      r.dev = st.st_dev;
      r.ino = st.st_ino;
      r.kind = sev->sigev_notify;
      r.signo = sev->sigev_notify == SIGEV_SIGNAL ? sev->sigev_signo : 0;
      r.value = sev->sigev_value;
      r.function = sev->sigev_notify == SIGEV_THREAD ? sev->sigev_notify_function : nullptr;
      r.has_attr = sev->sigev_notify == SIGEV_THREAD && sev->sigev_notify_attributes;
      if (r.has_attr) r.attr = *sev->sigev_notify_attributes;
      pthread_sigmask(SIG_SETMASK, nullptr, &r.creator_mask);
      r.live = true;
      rc = register_again(fd, slot);
      if (rc != 0) g_table[slot] = previous;
    }
  }
  pthread_mutex_unlock(&g_lock);
  ckpt_allow_checkpoints();
  if (rc < 0) {
    errno = static_cast<int>(-rc);
    return -1;
  }
  return 0;
}

}  // extern "C"
