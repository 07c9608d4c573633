#include "mqueue_save.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <mqueue.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "mqueue_notify.h"
#include "mqueue_section.h"

namespace ckpt::mqueue {
namespace {

constexpr long kMqueueMagic = 0x19800202;  // the mqueue file system's f_type
constexpr char kShareName[] = "mqueue";
constexpr char kDeletedSuffix[] = " (deleted)";

// A queue descriptor somewhere in the computation, as shared at PRE_CHECKPOINT.
struct Holder {
  char boot_id[40];  // the host's kernel (/proc/sys/kernel/random/boot_id): queues are per kernel
  uint64_t dev, ino;
  int32_t vpid, fd;
  uint32_t notifies;  // 1: this process has the queue's mq_notify registration (and knows its sigevent)
  uint32_t reserved;
  uint64_t key() const { return holder_key(vpid, fd); }
};

struct Own {
  int fd;
  uint64_t dev, ino;
};

// A registration to make again after a restart: slot of the wrapper's table, on fd.
struct Note {
  int fd;
  int slot;
};

MappedArray<Own> g_own;      // claimed at PRE_CHECKPOINT
char g_boot_id[40];
MappedArray<Note> g_notes;   // this process's registrations at its last checkpoint (restored with the memory)
MappedArray<Holder> g_holders;
MappedArray<MqDescriptor> g_descriptors;
MappedArray<MqQueue> g_queues;
MappedBuffer g_messages;
MappedBuffer g_receive;
MappedBuffer g_section;
MappedArray<int> g_fds;

void release_all() {
  g_holders.release();
  g_descriptors.release();
  g_queues.release();
  g_messages.release();
  g_receive.release();
  g_section.release();
}

pid_t real_self() { return static_cast<pid_t>(raw_syscall(SYS_getpid)); }

bool is_mqueue(int fd, uint64_t* dev, uint64_t* ino) {
  struct statfs fs;
  struct stat st;
  if (raw_syscall(SYS_fstatfs, fd, reinterpret_cast<long>(&fs)) != 0 || fs.f_type != kMqueueMagic) return false;
  if (raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) != 0) return false;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return true;
}

// A new description of the queue open as `fd` (the application's own may be
// write-only, and reading it would move its file position).
long reopen(int fd, int flags) {
  return raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(proc_path(0, "fd", fd).c_str()), flags | O_CLOEXEC);
}

// The queue file's one line: "QSIZE:n NOTIFY:n SIGNO:n NOTIFY_PID:n".
struct QueueLine {
  uint64_t notify = 0, signo = 0, notify_pid = 0;
};

bool number_after(const char* text, const char* key, uint64_t* out) {
  const char* at = strstr(text, key);
  if (!at) return false;
  at += strlen(key);
  uint64_t v = 0;
  bool any = false;
  for (; *at >= '0' && *at <= '9'; ++at, any = true) v = v * 10 + static_cast<uint64_t>(*at - '0');
  *out = v;
  return any;
}

// Reads the queue file through `fd` itself where it is readable (pread: the
// application's file position stays), else through a new description. The
// kernel takes a queue's registration off whenever its owner closes any
// descriptor of the queue: *reopened says one was opened and closed.
bool read_queue_line(int fd, QueueLine& out, bool* reopened) {
  char text[256];
  long n = raw_syscall(SYS_pread64, fd, reinterpret_cast<long>(text), sizeof text - 1, 0);
  *reopened = false;
  if (n < 0) {
    long rfd = reopen(fd, O_RDONLY);
    if (rfd < 0) return false;
    *reopened = true;
    n = raw_syscall(SYS_read, rfd, reinterpret_cast<long>(text), sizeof text - 1);
    raw_syscall(SYS_close, rfd);
  }
  if (n <= 0) return false;
  text[n] = '\0';
  return number_after(text, "NOTIFY:", &out.notify) && number_after(text, "SIGNO:", &out.signo) &&
         number_after(text, "NOTIFY_PID:", &out.notify_pid);
}

// The queue file of `own`, read through whichever of this process's
// descriptors of the queue can be read without opening a new one.
bool read_own_queue_line(const Own& own, QueueLine& out, bool* reopened) {
  for (size_t i = 0; i < g_own.size(); ++i) {
    const Own& o = g_own[i];
    long mode = o.dev == own.dev && o.ino == own.ino ? raw_syscall(SYS_fcntl, o.fd, F_GETFL) : -1;
    if (mode >= 0 && (mode & O_ACCMODE) != O_WRONLY) return read_queue_line(o.fd, out, reopened);
  }
  return read_queue_line(own.fd, out, reopened);
}

// "fd N (the message queue /name): TEXT" fails the checkpoint.
class Problem {
 public:
  Problem(int fd, const char* name) : text_(line_, sizeof line_) {
    text_.add(ShortText().add("fd ").dec(fd).c_str()).add(" (the POSIX message queue ").add(name).add("): ");
  }
  Problem& add(const char* s) {
    text_.add(s);
    return *this;
  }
  Problem& dec(long v) {
    text_.add(ShortText().dec(v).c_str());
    return *this;
  }
  void fail() { ckpt_fail_checkpoint(line_); }

 private:
  char line_[600];
  MessageText text_;
};

// The queue's leader among the holders of (dev, ino): the one descriptor of
// the process with its registration, else the lowest of all.
uint64_t leader_of(uint64_t dev, uint64_t ino) {
  uint64_t best = ~uint64_t{0}, best_notifying = ~uint64_t{0};
  for (size_t i = 0; i < g_holders.size(); ++i) {
    const Holder& h = g_holders[i];
    if (h.dev != dev || h.ino != ino || memcmp(h.boot_id, g_boot_id, sizeof g_boot_id) != 0) continue;
    if (h.key() < best) best = h.key();
    if (h.notifies && h.key() < best_notifying) best_notifying = h.key();
  }
  return best_notifying != ~uint64_t{0} ? best_notifying : best;
}

// The lowest descriptor of the computation sharing fd's open file description.
uint64_t description_of(pid_t self_real, int32_t self_vpid, const Own& own) {
  uint64_t best = holder_key(self_vpid, own.fd);
  for (size_t i = 0; i < g_holders.size(); ++i) {
    const Holder& h = g_holders[i];
    if (h.dev != own.dev || h.ino != own.ino || h.key() >= best || memcmp(h.boot_id, g_boot_id, sizeof g_boot_id) != 0)
      continue;
    pid_t real = h.vpid == self_vpid ? self_real : ckpt_real_pid(h.vpid);
    if (raw_syscall(SYS_kcmp, self_real, real, KCMP_FILE, own.fd, h.fd) == 0) best = h.key();
  }
  return best;
}

bool add_message(uint32_t priority, const char* bytes, uint32_t length) {
  MqMessage m{priority, length};
  const size_t padded = (size_t{length} + 7) & ~size_t{7};
  size_t at = g_messages.append(&m, sizeof m);
  if (at == MappedBuffer::kFailed || g_messages.append(nullptr, padded) == MappedBuffer::kFailed) return false;
  memcpy(g_messages.data() + at + sizeof m, bytes, length);
  return true;
}

// Saves the queue open as `fd` into q: its name, attributes, registration
// and messages (read out and put straight back). False: the checkpoint fails.
bool save_queue(const Own& own, int32_t vpid, MqQueue& q) {
  const int fd = own.fd;
  char link[512];
  if (read_link(proc_path(0, "fd", fd).c_str(), link, sizeof link) <= 0) link[0] = '\0';
  struct stat st;
  if (raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) != 0) st = {};
  size_t len = strlen(link), suffix = sizeof kDeletedSuffix - 1;
  if (st.st_nlink == 0 && len >= suffix && strcmp(link + len - suffix, kDeletedSuffix) == 0) {
    link[len - suffix] = '\0';
    q.unlinked = 1;
  }
  // Opened through a mount of the mqueue file system ("/dev/mqueue/jobs"),
  // the queue is still "/jobs" to mq_open.
  const char* name = strrchr(link, '/');
  if (link[0] != '/' || !name || strlen(name) >= sizeof q.name) {
    Problem(fd, link).add("its name cannot be read").fail();
    return false;
  }
  memcpy(q.name, name, strlen(name) + 1);
  q.mode = st.st_mode & 07777;
  q.uid = st.st_uid;
  q.gid = st.st_gid;

  // Whose registration the queue has, before any descriptor of ours is
  // opened and closed (which would take the owner's off).
  QueueLine line;
  bool reopened = false;
  if (!read_own_queue_line(own, line, &reopened)) {
    Problem(fd, q.name).add("its state (/proc/self/fd/N) cannot be read").fail();
    return false;
  }
  int slot = -1;
  if (line.notify_pid) {
    slot = find_registration(own.dev, own.ino);
    if (static_cast<pid_t>(line.notify_pid) != real_self() || slot < 0 ||
        registration(slot).kind != static_cast<int32_t>(line.notify)) {
      Problem(fd, q.name).add("it has an mq_notify registration of process ")
          .dec(ckpt_virtual_pid(static_cast<pid_t>(line.notify_pid)))
          .add(" that ckpt cannot save (made outside the computation, without libckpt's mq_notify, or changed "
               "during the checkpoint)").fail();
      return false;
    }
  }
  long rfd = reopen(fd, O_RDWR | O_NONBLOCK);
  if (rfd < 0) {
    if (slot >= 0) register_again(fd, slot);
    Problem(fd, q.name).add("ckpt cannot open it to read its messages (errno ").dec(-rfd).add(")").fail();
    return false;
  }
  struct mq_attr attr;
  if (raw_syscall(SYS_mq_getsetattr, rfd, 0, reinterpret_cast<long>(&attr)) != 0) {
    raw_syscall(SYS_close, rfd);
    if (slot >= 0) register_again(fd, slot);
    Problem(fd, q.name).add("its attributes cannot be read").fail();
    return false;
  }
  q.maxmsg = attr.mq_maxmsg;
  q.msgsize = attr.mq_msgsize;
  // Room for every message before the first is taken out: none can be lost
  // for want of memory.
  const size_t most = static_cast<size_t>(attr.mq_curmsgs) *
                      (sizeof(MqMessage) + ((static_cast<size_t>(attr.mq_msgsize) + 7) & ~size_t{7}));
  if (!g_receive.reserve(static_cast<size_t>(attr.mq_msgsize)) || !g_messages.reserve(g_messages.size() + most)) {
    raw_syscall(SYS_close, rfd);
    if (slot >= 0) register_again(fd, slot);
    Problem(fd, q.name).add("out of memory for its messages").fail();
    return false;
  }
  // Off while the queue is emptied and refilled, so the refill does not fire it.
  if (slot >= 0) unregister(fd);

  // Read out, in the kernel's order (priority, then arrival).
  q.first_byte = g_messages.size();
  const size_t first = g_messages.size();
  long count = 0, read_error = 0;
  while (count < attr.mq_curmsgs) {
    unsigned priority = 0;
    long n = raw_syscall(SYS_mq_timedreceive, rfd, reinterpret_cast<long>(g_receive.data()), attr.mq_msgsize,
                         reinterpret_cast<long>(&priority), 0);
    if (n < 0) {
      if (n != -EAGAIN) read_error = n;
      break;
    }
    add_message(priority, g_receive.data(), static_cast<uint32_t>(n));  // within the room reserved
    ++count;
  }
  // Put back, in the same order: the queue is as it was.
  long put_back = 0, error = 0;
  for (size_t at = first; at < g_messages.size();) {
    MqMessage m;
    memcpy(&m, g_messages.data() + at, sizeof m);
    long rc = raw_syscall(SYS_mq_timedsend, rfd, reinterpret_cast<long>(g_messages.data() + at + sizeof m), m.length,
                          m.priority, 0);
    if (rc != 0 && !error) error = rc;
    if (rc == 0) ++put_back;
    at += sizeof m + ((size_t{m.length} + 7) & ~size_t{7});
  }
  raw_syscall(SYS_close, rfd);
  long again = slot >= 0 ? register_again(fd, slot) : 0;
  if (read_error || error || again) {
    Problem p(fd, q.name);
    if (error) p.add("only ").dec(put_back).add(" of its ").dec(count).add(" messages could be put back (errno ").dec(-error).add(")");
    else if (read_error) p.add("its messages cannot be read (errno ").dec(-read_error).add("; those read were put back)");
    else p.add("its mq_notify registration cannot be made again (errno ").dec(-again).add(")");
    p.fail();
    return false;
  }
  q.curmsgs = count;
  q.byte_count = g_messages.size() - q.first_byte;
  if (slot >= 0) {
    const Registration& r = registration(slot);
    q.notify_registered = 1;
    q.notify_kind = r.kind;
    q.notify_signo = r.signo;
    q.notify_vpid = vpid;
    q.notify_fd = fd;
    q.notify_value = reinterpret_cast<uint64_t>(r.value.sival_ptr);
    q.notify_function = reinterpret_cast<uint64_t>(r.function);
    if (!g_notes.push({fd, slot})) {
      Problem(fd, q.name).add("out of memory for its mq_notify registration").fail();
      return false;
    }
  }
  return true;
}

bool collect_holders() {
  g_holders.clear();
  bool full = false;
  ckpt_for_each_shared(
      kShareName,
      [](const void* data, size_t len, void* arg) {
        if (len != sizeof(Holder)) return 0;
        Holder h;
        memcpy(&h, data, sizeof h);
        if (g_holders.push(h)) return 0;
        *static_cast<bool*>(arg) = true;
        return 1;
      },
      &full);
  return !full;
}

}  // namespace

void claim_mqueue_fds() {
  g_own.clear();
  g_fds.clear();
  memset(g_boot_id, 0, sizeof g_boot_id);
  read_small_file("/proc/sys/kernel/random/boot_id", g_boot_id, sizeof g_boot_id);
  if (list_fds(0, g_fds) < 0) return;
  bool ok = true;
  for (size_t i = 0; i < g_fds.size() && ok; ++i) {
    Own own{g_fds[i], 0, 0};
    if (ckpt_is_protected_fd(own.fd) || !is_mqueue(own.fd, &own.dev, &own.ino)) continue;
    ok = g_own.push(own);
    ckpt_claim_fd(own.fd);
  }
  g_fds.release();
  const pid_t real = real_self();
  const int32_t vpid = ckpt_virtual_pid(real);
  for (size_t i = 0; i < g_own.size() && ok; ++i) {
    const Own own = g_own[i];
    QueueLine line;
    bool reopened = false;
    Holder h{{}, own.dev, own.ino, vpid, own.fd, 0, 0};
    memcpy(h.boot_id, g_boot_id, sizeof h.boot_id);
    const int slot = find_registration(own.dev, own.ino);
    h.notifies = read_own_queue_line(own, line, &reopened) && static_cast<pid_t>(line.notify_pid) == real && slot >= 0;
    // Reading a queue held only write-only took our registration off: on again.
    if (h.notifies && reopened) register_again(own.fd, slot);
    ok = ckpt_share(kShareName, &h, sizeof h) == 0;
  }
  if (!ok) ckpt_fail_checkpoint("out of memory for the list of POSIX message queue descriptors");
}

void checkpoint_mqueue_fds() {
  g_notes.clear();
  if (!take_arrived_notifications())
    ckpt_fail_checkpoint("more SIGEV_THREAD notifications of POSIX message queues arrived and not yet run than ckpt "
                         "can hold across a checkpoint");
  if (g_own.size() == 0) return;
  release_all();
  if (!collect_holders()) {
    ckpt_fail_checkpoint("out of memory for the POSIX message queue descriptors of the computation");
    return;
  }
  const pid_t real = real_self();
  const int32_t vpid = ckpt_virtual_pid(real);
  for (size_t i = 0; i < g_own.size(); ++i) {
    const Own own = g_own[i];
    long fd_flags = raw_syscall(SYS_fcntl, own.fd, F_GETFD), status = raw_syscall(SYS_fcntl, own.fd, F_GETFL);
    if (fd_flags < 0 || status < 0) continue;  // closed since the claim: only libckpt's threads run
    MqDescriptor d{};
    d.fd = own.fd;
    d.fd_flags = static_cast<uint32_t>(fd_flags) & FD_CLOEXEC;
    d.status_flags = static_cast<uint32_t>(status);
    d.queue_id = leader_of(own.dev, own.ino);
    d.desc_id = description_of(real, vpid, own);
    if (!g_descriptors.push(d)) {
      ckpt_fail_checkpoint("out of memory for the POSIX message queue descriptors");
      release_all();
      return;
    }
    if (d.queue_id != holder_key(vpid, own.fd)) continue;
    MqQueue q{};
    q.queue_id = d.queue_id;
    if (!save_queue(own, vpid, q)) {
      release_all();
      return;
    }
    if (!g_queues.push(q)) {
      ckpt_fail_checkpoint("out of memory for the POSIX message queues");
      release_all();
      return;
    }
  }
  MqSectionHeader h{kMqueueSectionVersion, static_cast<uint32_t>(g_descriptors.size()),
                    static_cast<uint32_t>(g_queues.size()), 0, g_messages.size()};
  bool built = g_section.append(&h, sizeof h) != MappedBuffer::kFailed &&
               g_section.append(g_descriptors.data(), g_descriptors.size() * sizeof(MqDescriptor)) != MappedBuffer::kFailed &&
               g_section.append(g_queues.data(), g_queues.size() * sizeof(MqQueue)) != MappedBuffer::kFailed &&
               g_section.append(g_messages.data(), g_messages.size()) != MappedBuffer::kFailed;
  if (!built) ckpt_fail_checkpoint("out of memory for section mqueue");
  else ckpt_save_section(kMqueueSection, g_section.data(), g_section.size());
  release_all();
}

void reregister_after_restart() {
  bool thread = false;
  for (size_t i = 0; i < g_notes.size(); ++i) thread |= registration(g_notes[i].slot).kind == SIGEV_THREAD;
  if (thread && !notify_new_socket())
    ckpt_log_warning("mqueue: no netlink socket for SIGEV_THREAD notifications after the restart");
  for (size_t i = 0; i < g_notes.size(); ++i) {
    long rc = register_again(g_notes[i].fd, g_notes[i].slot);
    if (rc != 0) {
      char line[160];
      MessageText(line, sizeof line)
          .add(ShortText().add("mqueue: fd ").dec(g_notes[i].fd).c_str())
          .add(ShortText().add(": its mq_notify registration cannot be made again after the restart (errno ").dec(-rc).add(")").c_str());
      ckpt_log_warning(line);
    }
  }
}

void mqueue_fork_child() {
  g_notes.clear();
  g_own.clear();
  notify_forget();
}

}  // namespace ckpt::mqueue
