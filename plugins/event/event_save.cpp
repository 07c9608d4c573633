#include "event_save.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <time.h>

#include "ckpt/computation_processes.h"
#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "event_section.h"
#include "fdinfo_text.h"
#include "inotify_paths.h"

namespace ckpt::event {
namespace {

struct Own {
  int fd;
  EventKind kind;
};

using Peer = ComputationProcess;

// An event descriptor somewhere in the computation.
struct Holder {
  pid_t vpid;
  pid_t real;
  int fd;
  EventKind kind;
  uint64_t key() const { return static_cast<uint64_t>(static_cast<uint32_t>(vpid)) << 32 | static_cast<uint32_t>(fd); }
};

// Claimed at PRE_CHECKPOINT, described at DRAIN; everything else lives for
// one DRAIN and is released after it.
MappedArray<Own> g_own;
MappedArray<Peer> g_peers;
MappedArray<Holder> g_holders;
MappedArray<EventRecord> g_records;
MappedArray<EpollItem> g_items;
MappedArray<InotifyWatch> g_watches;
MappedArray<int> g_fds;
MappedBuffer g_text;
MappedBuffer g_section;

void release_all() {
  g_peers.release();
  g_holders.release();
  g_records.release();
  g_items.release();
  g_watches.release();
  g_fds.release();
  g_text.release();
  g_section.release();
}

// The kind of an anon_inode descriptor by its link, or 0.
EventKind kind_of_link(const char* link) {
  static constexpr struct {
    const char* link;
    EventKind kind;
  } kLinks[] = {{"anon_inode:[eventfd]", EventKind::Eventfd},   {"anon_inode:[timerfd]", EventKind::Timerfd},
                {"anon_inode:[signalfd]", EventKind::Signalfd}, {"anon_inode:[eventpoll]", EventKind::Epoll},
                {"anon_inode:inotify", EventKind::Inotify}};
  for (const auto& l : kLinks)
    if (strcmp(link, l.link) == 0) return l.kind;
  return EventKind{};
}

EventKind kind_of(pid_t pid, int fd) {
  char link[64];
  if (read_link(proc_path(pid, "fd", fd).c_str(), link, sizeof link) <= 0) return EventKind{};
  return kind_of_link(link);
}

const char* what(EventKind kind) {
  switch (kind) {
    case EventKind::Eventfd: return " (an eventfd)";
    case EventKind::Timerfd: return " (a timerfd)";
    case EventKind::Signalfd: return " (a signalfd)";
    case EventKind::Epoll: return " (an epoll instance)";
    case EventKind::Inotify: return " (an inotify instance)";
  }
  return "";
}

// What became of one descriptor, or of one watch of it.
enum class Outcome {
  Saved,
  Dropped,  // left out, with a warning (losses accepted)
  Failed,   // the checkpoint fails
};

// A line of the form "fd N (an epoll instance): TEXT...": the checkpoint
// fails with it, or, where the user accepted losses, goes on with a warning
// and without what it names. Returns whether the checkpoint goes on.
class Problem {
 public:
  explicit Problem(const Own& own) : text_(line_, sizeof line_) {
    ShortText head;
    head.add("fd ").dec(own.fd).add(what(own.kind)).add(": ");
    text_.add(head.c_str());
  }
  Problem& add(const char* s) {
    text_.add(s);
    return *this;
  }
  Problem& dec(long v) {
    ShortText t;
    t.dec(v);
    text_.add(t.c_str());
    return *this;
  }
  // Failed, or Dropped where the user accepted losses.
  Outcome report() {
    if (!ckpt_loss_accepted()) {
      ckpt_fail_checkpoint(line_);
      return Outcome::Failed;
    }
    text_.add(" (a restart goes on without it)");
    ckpt_checkpoint_warning(line_);
    return Outcome::Dropped;
  }

 private:
  char line_[4600];
  MessageText text_;
};

long kcmp(pid_t a, pid_t b, int type, long x, long y) { return raw_syscall(SYS_kcmp, a, b, type, x, y); }

// The key of the lowest holder of the object `own` refers to (kcmp); fails
// the checkpoint if the kernel cannot tell.
bool find_desc_id(const Peer& self, const Own& own, uint64_t* desc_id) {
  Holder me{self.vpid, self.real, own.fd, own.kind};
  uint64_t best = me.key();
  for (size_t i = 0; i < g_holders.size(); ++i) {
    const Holder& h = g_holders[i];
    if (h.kind != own.kind || h.key() >= best) continue;
    long same = kcmp(self.real, h.real, KCMP_FILE, own.fd, h.fd);
    if (same == 0) best = h.key();
    if (same < 0 && same != -EBADF && same != -ESRCH) {
      ShortText err;
      err.dec(-same);
      char line[200];
      MessageText(line, sizeof line)
          .add(ShortText().add("fd ").dec(own.fd).add(what(own.kind)).c_str())
          .add(": cannot tell whether another descriptor shares it: kcmp fails with errno ")
          .add(err.c_str());
      ckpt_fail_checkpoint(line);
      return false;
    }
  }
  *desc_id = best;
  return true;
}

// ---- state of each kind, from fdinfo ----------------------------------------

bool read_fdinfo(int fd) { return read_proc_file(proc_path(0, "fdinfo", fd).c_str(), g_text) > 0; }

Outcome save_eventfd(const Own& own, EventRecord& r) {
  if (!read_fdinfo(own.fd) || !fdinfo_field(g_text.data(), "eventfd-count:", 16, &r.count))
    return Problem(own).add("its counter is not in /proc/self/fdinfo").report();
  uint64_t semaphore = 0;
  if (!fdinfo_field(g_text.data(), "eventfd-semaphore:", 10, &semaphore)) {
    // Older kernels do not say; nothing else tells.
    char line[200];
    MessageText(line, sizeof line)
        .add(ShortText().add("fd ").dec(own.fd).c_str())
        .add(" (an eventfd): this kernel does not tell whether it counts in semaphore mode (EFD_SEMAPHORE); "
             "after a restart it is a plain counter");
    ckpt_checkpoint_warning(line);
  }
  r.semaphore = semaphore ? 1 : 0;
  return Outcome::Saved;
}

clockid_t base_clock(int32_t clock_id) {
  if (clock_id == CLOCK_REALTIME_ALARM) return CLOCK_REALTIME;
  if (clock_id == CLOCK_BOOTTIME_ALARM) return CLOCK_BOOTTIME;
  return clock_id;
}

Outcome save_timerfd(const Own& own, EventRecord& r) {
  // A periodic timer that expired is forwarded only when someone reads it or
  // asks for its time: until then fdinfo says 0 s left. timerfd_gettime
  // forwards it (counting the expirations it missed, as a read would).
  for (int attempt = 0;; ++attempt) {
    uint64_t clock = 0, flags = 0;
    bool ok = read_fdinfo(own.fd);
    const char* text = g_text.data();
    ok = ok && fdinfo_field(text, "clockid:", 10, &clock) && fdinfo_field(text, "ticks:", 10, &r.ticks) &&
         fdinfo_field(text, "settime flags:", 8, &flags);
    FdinfoScan value(text), interval(text);
    ok = ok && value.seek_line(text, "it_value:") && value.pair(&r.value_sec, &r.value_nsec) &&
         interval.seek_line(text, "it_interval:") && interval.pair(&r.interval_sec, &r.interval_nsec);
    if (!ok) return Problem(own).add("its settings are not in /proc/self/fdinfo").report();
    r.clock_id = static_cast<int32_t>(clock);
    r.settime_flags = static_cast<uint32_t>(flags);
    const bool unforwarded = !r.value_sec && !r.value_nsec && (r.interval_sec || r.interval_nsec) && r.ticks;
    if (!unforwarded || attempt == 8) break;
    struct itimerspec now;
    raw_syscall(SYS_timerfd_gettime, own.fd, reinterpret_cast<long>(&now));
  }
  if ((r.settime_flags & TFD_TIMER_ABSTIME) && (r.value_sec || r.value_nsec)) {
    struct timespec now;
    raw_syscall(SYS_clock_gettime, base_clock(r.clock_id), reinterpret_cast<long>(&now));
    r.value_sec += now.tv_sec;
    r.value_nsec += now.tv_nsec;
    if (r.value_nsec >= 1'000'000'000) {
      r.value_nsec -= 1'000'000'000;
      ++r.value_sec;
    }
  }
  return Outcome::Saved;
}

Outcome save_signalfd(const Own& own, EventRecord& r) {
  if (!read_fdinfo(own.fd) || !fdinfo_field(g_text.data(), "sigmask:", 16, &r.sigmask))
    return Problem(own).add("its mask is not in /proc/self/fdinfo").report();
  return Outcome::Saved;
}

// The kernel's dev_t of fdinfo's "sdev:" as stat's st_dev.
uint64_t user_dev(uint64_t kernel_dev) { return makedev(kernel_dev >> 20, kernel_dev & 0xfffff); }

struct EpollSlot {
  uint32_t efd, tfd, toff;
};

// Whether descriptor `fd` of `h` is the file that the epoll instance
// own.fd (of this process) watches as its toff-th item numbered item.tfd.
// Kernels without KCMP_EPOLL_TFD: whether fd is item.tfd and the file
// fdinfo names (inode and device).
bool watches(const Peer& self, const Own& own, const Holder& h, int fd, const EpollItem& item, uint32_t toff) {
  EpollSlot slot{static_cast<uint32_t>(own.fd), static_cast<uint32_t>(item.tfd), toff};
  long same = kcmp(h.real, self.real, KCMP_EPOLL_TFD, fd, reinterpret_cast<long>(&slot));
  if (same != -EOPNOTSUPP && same != -EINVAL) return same == 0;
  if (fd != item.tfd) return false;
  struct stat st;
  return raw_syscall(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>(proc_path(h.real, "fd", fd).c_str()),
                     reinterpret_cast<long>(&st), 0) == 0 &&
         st.st_ino == item.target_ino && st.st_dev == item.target_dev;
}

// Who can add `item` again at restart: a process that holds the epoll
// instance (the lowest first) and has the watched file, at number tfd if it
// can. Fills adder_vpid and via_fd and returns the adder, or null.
const Holder* find_adder(const Peer& self, const Own& own, EpollItem& item, uint32_t toff) {
  uint64_t last = 0;
  for (bool first = true;; first = false) {
    // The next holder of this epoll instance, in key order.
    const Holder* next = nullptr;
    for (size_t i = 0; i < g_holders.size(); ++i) {
      const Holder& h = g_holders[i];
      if (h.kind != EventKind::Epoll || (!first && h.key() <= last) || (next && h.key() >= next->key())) continue;
      if (kcmp(self.real, h.real, KCMP_FILE, own.fd, h.fd) == 0) next = &h;
    }
    if (!next) return nullptr;
    last = next->key();
    const bool mine = next->vpid == self.vpid;
    int found = watches(self, own, *next, item.tfd, item, toff) ? item.tfd : -1;
    if (found < 0) {
      g_fds.clear();
      if (list_fds(mine ? 0 : next->real, g_fds) < 0) continue;
      for (size_t i = 0; i < g_fds.size() && found < 0; ++i)
        if (g_fds[i] != item.tfd && !(mine && ckpt_is_protected_fd(g_fds[i])) &&
            watches(self, own, *next, g_fds[i], item, toff))
          found = g_fds[i];
    }
    if (found < 0) continue;
    item.adder_vpid = next->vpid;
    item.via_fd = found;
    return next;
  }
}

// "/proc/<digits>/...": a file the fd plugin reopens only in the running
// process after a restart, after the epoll instance's watches are back.
bool reopened_late(pid_t pid, int fd, char* link, size_t cap) {
  if (read_link(proc_path(pid, "fd", fd).c_str(), link, cap) <= 0) return false;
  return strncmp(link, "/proc/", 6) == 0 && link[6] >= '0' && link[6] <= '9';
}

Outcome save_epoll(const Peer& self, const Own& own, EventRecord& r) {
  if (!read_fdinfo(own.fd)) return Problem(own).add("its /proc/self/fdinfo cannot be read").report();
  r.first_item = static_cast<uint32_t>(g_items.size());
  const char* text = g_text.data();
  FdinfoScan scan(text);
  do {
    if (!scan.at("tfd:")) continue;
    uint64_t tfd, events, data, ino = 0, sdev = 0;
    if (!scan.skip_to("tfd:") || !scan.number(10, &tfd) || !scan.skip_to("events:") || !scan.number(16, &events) ||
        !scan.skip_to("data:") || !scan.number(16, &data))
      return Problem(own).add("its interest list in /proc/self/fdinfo cannot be read").report();
    if (scan.skip_to("ino:")) scan.number(16, &ino);
    if (scan.skip_to("sdev:")) scan.number(16, &sdev);
    EpollItem item{static_cast<int32_t>(tfd), static_cast<uint32_t>(events), data, 0, -1, ino, user_dev(sdev)};
    uint32_t toff = 0;  // earlier items of the same number (the kernel's order, which fdinfo follows)
    for (size_t i = r.first_item; i < g_items.size(); ++i) toff += g_items[i].tfd == item.tfd;
    const Holder* adder = find_adder(self, own, item, toff);
    char link[4096];
    Outcome problem = Outcome::Saved;
    if (!adder)
      problem = Problem(own).add("it watches a file as fd ").dec(item.tfd).add(" that no process holding the epoll instance has open").report();
    else if (reopened_late(adder->vpid == self.vpid ? 0 : adder->real, item.via_fd, link, sizeof link))
      problem = Problem(own).add("it watches ").add(link).add(" (fd ").dec(item.tfd)
                    .add("), which ckpt reopens only once the process runs again: the watch cannot be restored").report();
    else if (!g_items.push(item))
      problem = Problem(own).add("out of memory for its interest list").report();
    if (problem == Outcome::Failed) return problem;
  } while (scan.next_line());
  r.item_count = static_cast<uint32_t>(g_items.size() - r.first_item);
  if (!r.item_count) r.first_item = 0;
  return Outcome::Saved;
}

Outcome save_inotify(const Own& own, EventRecord& r) {
  if (!read_fdinfo(own.fd)) return Problem(own).add("its /proc/self/fdinfo cannot be read").report();
  int queued = 0;
  if (raw_syscall(SYS_ioctl, own.fd, FIONREAD, reinterpret_cast<long>(&queued)) == 0 && queued > 0)
    r.queued_bytes = static_cast<uint32_t>(queued);
  r.first_watch = static_cast<uint32_t>(g_watches.size());
  const char* text = g_text.data();
  FdinfoScan scan(text);
  static InotifyWatch w;  // 4 KiB: not on the checkpoint thread's stack
  do {
    if (!scan.at("inotify wd:")) continue;
    uint64_t wd, ino, sdev, mask;
    if (!scan.skip_to("wd:") || !scan.number(16, &wd) || !scan.skip_to("ino:") || !scan.number(16, &ino) ||
        !scan.skip_to("sdev:") || !scan.number(16, &sdev) || !scan.skip_to("mask:") || !scan.number(16, &mask))
      return Problem(own).add("its watches in /proc/self/fdinfo cannot be read").report();
    w = InotifyWatch{static_cast<int32_t>(wd), static_cast<uint32_t>(mask), ino, user_dev(sdev), {}};
    WatchPath found = watched_path(w.dev, w.ino, w.path, sizeof w.path);
    Outcome problem = Outcome::Saved;
    if (found == WatchPath::Found) {
      if (!g_watches.push(w)) problem = Problem(own).add("out of memory for its watches").report();
    } else {
      Problem p(own);
      p.add("its watch ").dec(w.wd).add(" cannot be restored: ");
      if (found == WatchPath::Stale) p.add(w.path).add(" no longer names the watched file (renamed or removed)");
      else p.add("no path to the watched inode ").dec(static_cast<long>(ino)).add(" is known (watched before libckpt was loaded, or by a raw system call)");
      problem = p.report();
    }
    if (problem == Outcome::Failed) return problem;
  } while (scan.next_line());
  r.watch_count = static_cast<uint32_t>(g_watches.size() - r.first_watch);
  if (!r.watch_count) r.first_watch = 0;
  return Outcome::Saved;
}

Outcome save_state(const Peer& self, const Own& own, EventRecord& r) {
  switch (own.kind) {
    case EventKind::Eventfd: return save_eventfd(own, r);
    case EventKind::Timerfd: return save_timerfd(own, r);
    case EventKind::Signalfd: return save_signalfd(own, r);
    case EventKind::Epoll: return save_epoll(self, own, r);
    case EventKind::Inotify: return save_inotify(own, r);
  }
  return Outcome::Failed;
}

// Every event descriptor of the other processes of the computation.
bool list_other_holders() {
  for (size_t p = 1; p < g_peers.size(); ++p) {
    const Peer peer = g_peers[p];
    g_fds.clear();
    if (list_fds(peer.real, g_fds) < 0) continue;  // gone, or a zombie
    for (size_t i = 0; i < g_fds.size(); ++i) {
      EventKind kind = kind_of(peer.real, g_fds[i]);
      if (kind != EventKind{} && !g_holders.push({peer.vpid, peer.real, g_fds[i], kind})) return false;
    }
  }
  return true;
}

bool list_peers() { return list_computation_processes(g_peers) > 0; }

}  // namespace

void claim_event_fds() {
  g_own.clear();
  MappedArray<int> fds;
  if (list_fds(0, fds) >= 0)
    for (size_t i = 0; i < fds.size(); ++i) {
      if (ckpt_is_protected_fd(fds[i])) continue;
      EventKind kind = kind_of(0, fds[i]);
      if (kind == EventKind{}) continue;
      if (!g_own.push({fds[i], kind})) {
        ckpt_fail_checkpoint("out of memory for the list of event descriptors");
        break;
      }
      ckpt_claim_fd(fds[i]);
    }
  fds.release();
}

void checkpoint_event_fds() {
  if (g_own.size() == 0) return;
  release_all();
  if (!list_peers()) {
    ckpt_fail_checkpoint("out of memory for the list of the computation's processes");
    return;
  }
  const Peer self = g_peers[0];
  bool ok = true;
  for (size_t i = 0; i < g_own.size() && ok; ++i) ok = g_holders.push({self.vpid, self.real, g_own[i].fd, g_own[i].kind});
  if (!ok || !list_other_holders()) {
    ckpt_fail_checkpoint("out of memory for the event descriptors of the computation");
    release_all();
    return;
  }
  for (size_t i = 0; i < g_own.size(); ++i) {
    const Own own = g_own[i];
    EventRecord r{};
    r.fd = own.fd;
    r.kind = own.kind;
    long fd_flags = raw_syscall(SYS_fcntl, own.fd, F_GETFD), status = raw_syscall(SYS_fcntl, own.fd, F_GETFL);
    if (fd_flags < 0 || status < 0) continue;  // closed since the claim: only libckpt's threads run
    r.fd_flags = static_cast<uint32_t>(fd_flags);
    r.status_flags = static_cast<uint32_t>(status);
    if (!find_desc_id(self, own, &r.desc_id)) {
      release_all();
      return;
    }
    r.leader = r.desc_id == Holder{self.vpid, self.real, own.fd, own.kind}.key();
    Outcome outcome = r.leader ? save_state(self, own, r) : Outcome::Saved;
    if (outcome == Outcome::Failed) {
      release_all();
      return;
    }
    if (outcome == Outcome::Dropped) continue;
    if (!g_records.push(r)) {
      ckpt_fail_checkpoint("out of memory for the event descriptors");
      release_all();
      return;
    }
  }
  EventSectionHeader h{kEventSectionVersion, static_cast<uint32_t>(g_records.size()),
                       static_cast<uint32_t>(g_items.size()), static_cast<uint32_t>(g_watches.size())};
  bool built = g_section.append(&h, sizeof h) != MappedBuffer::kFailed &&
               g_section.append(g_records.data(), g_records.size() * sizeof(EventRecord)) != MappedBuffer::kFailed &&
               g_section.append(g_items.data(), g_items.size() * sizeof(EpollItem)) != MappedBuffer::kFailed &&
               g_section.append(g_watches.data(), g_watches.size() * sizeof(InotifyWatch)) != MappedBuffer::kFailed;
  if (!built) ckpt_fail_checkpoint("out of memory for section event");
  else ckpt_save_section(kEventSection, g_section.data(), g_section.size());
  release_all();
}

}  // namespace ckpt::event
