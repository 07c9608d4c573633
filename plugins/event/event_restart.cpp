// The event kind's restart side (ckpt/restart.h), in two kinds:
//
// "event" (rank 70, before the fd kind): ckpt_restart makes every eventfd,
// timerfd, signalfd, epoll and inotify object once, from the image of the
// process that led it, at a transport number; each process dup2s its own to
// their saved numbers (install). A description shared after fork or dup is
// one object again.
//   - eventfd: its counter and EFD_SEMAPHORE;
//   - timerfd: its clock, re-armed with the time that was left (absolute
//     timers at their absolute time) and its period; expirations not read
//     yet are put back (TFD_IOC_SET_TICKS);
//   - signalfd: its mask (the signals themselves are the signal kind's);
//   - inotify: its watches, by path, with the same watch descriptors;
//   - epoll: empty here.
//
// "event-epoll" (rank 95, after the fd kind's install): each process that
// was chosen at checkpoint (EpollItem::adder_vpid) adds the watches of the
// epoll instances it holds again, with the same events and data. This must
// wait until every descriptor the process had is at its number: a watch is
// known to the kernel by the file and the number it was added with, which
// later EPOLL_CTL_MOD and _DEL name; files, pipes and sockets are installed
// by other kinds, at ranks up to 90. Done here rather than in the restored
// process, a failure still abandons the restart with a reason before anything
// runs.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "ckpt/restart.h"
#include "event_image.h"

namespace ckpt {
namespace {

using event::EpollItem;
using event::EventKind;
using event::EventRecord;
using event::EventSectionData;
using event::InotifyWatch;

// <linux/timerfd.h>'s, which does not go with <sys/timerfd.h>.
constexpr unsigned long kSetTicks = _IOW('T', 0, uint64_t);
// Watch descriptors a restart skips to reach a saved one; beyond, it gives up.
constexpr int32_t kMaxSkippedWatches = 1 << 20;

std::string errno_text() { return std::strerror(errno); }

// Every process's section "event", read once (both kinds use it).
struct EventImages {
  std::vector<EventSectionData> sections;  // by process; empty if it had none
  std::vector<int32_t> vpids;
  struct Leader {
    size_t process;
    const EventRecord* record;
  };
  std::map<uint64_t, Leader> leaders;  // desc_id -> the record holding the object's state
  bool read = false;

  void load(const RestartContext& ctx) {
    if (read) return;
    read = true;
    for (const RestartProcess& p : ctx.processes) {
      sections.emplace_back();
      vpids.push_back(p.image->process().virt_pid);
      for (const image::Section& s : p.image->sections()) {
        if (s.name != event::kEventSection) continue;
        std::string why = event::read_event_section(s.data, sections.back());
        if (!why.empty()) throw RestartError("image " + p.image->path() + ": section event: " + why);
      }
    }
    for (size_t p = 0; p < sections.size(); ++p)
      for (const EventRecord& r : sections[p].records) {
        if (!r.leader) continue;
        if (static_cast<int32_t>(r.desc_id >> 32) != vpids[p])
          throw RestartError("image " + ctx.processes[p].image->path() + ": section event: fd " + std::to_string(r.fd) +
                             " leads an object of process " + std::to_string(static_cast<int32_t>(r.desc_id >> 32)));
        leaders[r.desc_id] = {p, &r};
      }
    for (size_t p = 0; p < sections.size(); ++p)
      for (const EventRecord& r : sections[p].records) check_holder(ctx, p, r);
  }

  std::string describe(const RestartContext& ctx, size_t p, const EventRecord& r) const {
    return "fd " + std::to_string(r.fd) + " (" + event::kind_name(r.kind) + ") of " + ctx.processes[p].describe();
  }

  void check_holder(const RestartContext& ctx, size_t p, const EventRecord& r) const {
    auto it = leaders.find(r.desc_id);
    if (it == leaders.end())
      throw RestartError(describe(ctx, p, r) + " shares an object whose state process " +
                         std::to_string(static_cast<int32_t>(r.desc_id >> 32)) + " saved, and no image given is its");
    if (it->second.record->kind != r.kind)
      throw RestartError(describe(ctx, p, r) + " shares an object that process " +
                         std::to_string(vpids[it->second.process]) + " saved as another kind");
    if (!r.leader) return;
    const EventSectionData& s = sections[p];
    for (uint32_t i = r.first_item; i < r.first_item + r.item_count; ++i) {
      const EpollItem& item = s.items[i];
      size_t adder = process_of(item.adder_vpid);
      if (adder == npos || !holds(adder, r.desc_id))
        throw RestartError(describe(ctx, p, r) + ": its watch of fd " + std::to_string(item.tfd) +
                           " is to be added by process " + std::to_string(item.adder_vpid) +
                           ", which is not among the images or does not hold the epoll instance");
    }
  }

  static constexpr size_t npos = ~size_t{0};
  size_t process_of(int32_t vpid) const {
    auto it = std::find(vpids.begin(), vpids.end(), vpid);
    return it == vpids.end() ? npos : static_cast<size_t>(it - vpids.begin());
  }
  // Process p's descriptor of object desc_id, or null.
  const EventRecord* holds(size_t p, uint64_t desc_id) const {
    for (const EventRecord& r : sections[p].records)
      if (r.desc_id == desc_id) return &r;
    return nullptr;
  }
};

EventImages g_images;

class EventRestart : public RestartKind {
 public:
  const char* name() const override { return "event"; }
  // Before the fd kind (90), which keeps the descriptors we put in place.
  int rank() const override { return 70; }

  void check(RestartContext& ctx) override { g_images.load(ctx); }

  void create(RestartContext& ctx) override {
    for (auto& [desc_id, leader] : g_images.leaders) made_[desc_id] = make(ctx, leader.process, *leader.record);
  }

  void install(const RestartContext&, size_t process, const std::vector<int32_t>&) override {
    if (process >= g_images.sections.size()) return;
    for (const EventRecord& r : g_images.sections[process].records) {
      int src = made_.at(r.desc_id);
      if (dup2(src, r.fd) < 0)
        throw RestartError("cannot put event descriptor " + std::to_string(r.fd) + " in place: " + errno_text());
      fcntl(r.fd, F_SETFD, r.fd_flags & FD_CLOEXEC);
    }
  }

  void finish(RestartContext&) override { close_all(); }
  void abort(RestartContext&) override { close_all(); }

 private:
  void close_all() {
    for (auto& [desc_id, fd] : made_) close(fd);
    made_.clear();
  }

  [[noreturn]] void fail(const RestartContext& ctx, size_t p, const EventRecord& r, const std::string& why) const {
    throw RestartError("cannot restore " + g_images.describe(ctx, p, r) + ": " + why);
  }

  // Moves a new object above every saved descriptor number.
  int lifted(const RestartContext& ctx, size_t p, const EventRecord& r, int fd) {
    if (fd < 0) fail(ctx, p, r, errno_text());
    int high = fcntl(fd, F_DUPFD_CLOEXEC, ctx.fd_floor);
    int err = errno;
    close(fd);
    if (high < 0) fail(ctx, p, r, std::string("no descriptor number free: ") + std::strerror(err));
    made_[r.desc_id] = high;  // closed by close_all() if a later one fails
    return high;
  }

  int make(const RestartContext& ctx, size_t p, const EventRecord& r) {
    const int nonblock = (r.status_flags & O_NONBLOCK) ? O_NONBLOCK : 0;
    int fd = -1;
    switch (r.kind) {
      case EventKind::Eventfd: {
        fd = lifted(ctx, p, r, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | (r.semaphore ? EFD_SEMAPHORE : 0)));
        if (r.count && write(fd, &r.count, sizeof r.count) != sizeof r.count)
          fail(ctx, p, r, "cannot set its counter: " + errno_text());
        break;
      }
      case EventKind::Timerfd: {
        fd = lifted(ctx, p, r, timerfd_create(r.clock_id, TFD_CLOEXEC));
        itimerspec t{{r.interval_sec, r.interval_nsec}, {r.value_sec, r.value_nsec}};
        if ((r.value_sec || r.value_nsec) && timerfd_settime(fd, static_cast<int>(r.settime_flags), &t, nullptr) != 0)
          fail(ctx, p, r, "cannot arm it: " + errno_text());
        if (r.ticks && ioctl(fd, kSetTicks, &r.ticks) != 0)
          fail(ctx, p, r, "cannot put back its " + std::to_string(r.ticks) +
                              " expirations not read yet (TFD_IOC_SET_TICKS): " + errno_text());
        break;
      }
      case EventKind::Signalfd: {
        sigset_t mask;
        sigemptyset(&mask);
        for (int sig = 1; sig <= 64; ++sig)
          if (r.sigmask & (uint64_t{1} << (sig - 1))) sigaddset(&mask, sig);
        fd = lifted(ctx, p, r, signalfd(-1, &mask, SFD_CLOEXEC));
        break;
      }
      case EventKind::Epoll: fd = lifted(ctx, p, r, epoll_create1(EPOLL_CLOEXEC)); break;
      case EventKind::Inotify:
        fd = lifted(ctx, p, r, inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
        add_watches(ctx, p, r, fd);
        // No call puts events into an inotify queue: those not read before
        // the checkpoint are gone, and the user hears of it.
        if (r.queued_bytes)
          std::fprintf(stderr, "ckpt_restart: warning: %s: the %u bytes of events it had queued and not read are lost\n",
                       g_images.describe(ctx, p, r).c_str(), r.queued_bytes);
        break;
    }
    fcntl(fd, F_SETFL, (fcntl(fd, F_GETFL) & ~O_NONBLOCK) | nonblock);
    return fd;
  }

  // Adds the watches in the order of their descriptors. The kernel hands
  // out the next number after the last one it gave: to reach a number that
  // was skipped (a watch removed before the checkpoint), a watch is added
  // and removed until the next one is that number. The removals queue
  // IN_IGNORED events, which are read out before anyone sees them.
  void add_watches(const RestartContext& ctx, size_t p, const EventRecord& r, int fd) {
    const EventSectionData& s = g_images.sections[p];
    std::vector<const InotifyWatch*> watches;
    for (uint32_t i = r.first_watch; i < r.first_watch + r.watch_count; ++i) watches.push_back(&s.watches[i]);
    std::sort(watches.begin(), watches.end(), [](auto* a, auto* b) { return a->wd < b->wd; });
    bool skipped = false;
    for (const InotifyWatch* w : watches) {
      std::string path = ctx.paths.apply(w->path);
      const uint32_t mask = w->mask | IN_DONT_FOLLOW;
      for (int32_t tries = 0;; ++tries) {
        int wd = inotify_add_watch(fd, path.c_str(), mask);
        if (wd < 0) fail(ctx, p, r, "cannot watch " + path + " again (watch " + std::to_string(w->wd) + "): " + errno_text());
        if (wd == w->wd) break;
        if (wd > w->wd || tries == kMaxSkippedWatches)
          fail(ctx, p, r, "cannot give the watch of " + path + " its descriptor " + std::to_string(w->wd) +
                              " again (the kernel gave " + std::to_string(wd) + ")");
        inotify_rm_watch(fd, wd);
        skipped = true;
      }
    }
    if (!skipped) return;
    char events[4096];
    while (read(fd, events, sizeof events) > 0) {
    }
  }

  std::map<uint64_t, int> made_;  // desc_id -> transport fd
};

class EpollWatchRestart : public RestartKind {
 public:
  const char* name() const override { return "event-epoll"; }
  // After the fd kind (90): every descriptor of the process is at its number.
  int rank() const override { return 95; }

  void check(RestartContext& ctx) override { g_images.load(ctx); }

  void install(const RestartContext& ctx, size_t process, const std::vector<int32_t>&) override {
    if (process >= g_images.sections.size()) return;
    const int32_t vpid = g_images.vpids[process];
    for (auto& [desc_id, leader] : g_images.leaders) {
      const EventRecord& r = *leader.record;
      if (r.kind != EventKind::Epoll) continue;
      const EventSectionData& s = g_images.sections[leader.process];
      for (uint32_t i = r.first_item; i < r.first_item + r.item_count; ++i)
        if (s.items[i].adder_vpid == vpid) add(ctx, process, *g_images.holds(process, desc_id), s.items[i]);
    }
  }

 private:
  // EPOLL_CTL_ADD of the file at item.via_fd under the number item.tfd.
  void add(const RestartContext& ctx, size_t process, const EventRecord& epoll, const EpollItem& item) {
    const int tfd = item.tfd;
    int saved = -1, saved_flags = 0;  // what was at tfd, while via_fd's file stands there
    if (item.via_fd != tfd) {
      if ((saved_flags = fcntl(tfd, F_GETFD)) >= 0) saved = fcntl(tfd, F_DUPFD_CLOEXEC, ctx.fd_floor);
      if (dup2(item.via_fd, tfd) < 0)
        throw RestartError("cannot add the watch of fd " + std::to_string(tfd) + " to epoll fd " +
                           std::to_string(epoll.fd) + " of " + ctx.processes[process].describe() + ": fd " +
                           std::to_string(item.via_fd) + ": " + errno_text());
    }
    epoll_event ev{};
    ev.events = item.events;
    ev.data.u64 = item.data;
    int rc = epoll_ctl(epoll.fd, EPOLL_CTL_ADD, tfd, &ev);
    int err = errno;
    if (item.via_fd != tfd) {
      if (saved >= 0) {
        dup2(saved, tfd);
        fcntl(tfd, F_SETFD, saved_flags);
        close(saved);
      } else {
        close(tfd);
      }
    }
    if (rc == 0) return;
    const std::string what = "fd " + std::to_string(tfd) + " in epoll fd " + std::to_string(epoll.fd) + " of " +
                             ctx.processes[process].describe();
    // A standard stream that was a pipe may now be a file, which no epoll
    // instance can watch: the program would have had EPERM adding it.
    if (err == EPERM) {
      std::fprintf(stderr, "ckpt_restart: warning: %s is no longer watched: the file it is now cannot be (%s)\n",
                   what.c_str(), std::strerror(err));
      return;
    }
    throw RestartError("cannot watch " + what + " again: " + std::strerror(err));
  }
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::EventRestart)

// The second kind of this file (CKPT_RESTART_KIND's names are per file).
namespace {
ckpt::EpollWatchRestart g_epoll_watch_kind;
[[maybe_unused]] const bool g_epoll_watch_registered = (ckpt::register_restart_kind(&g_epoll_watch_kind), true);
}  // namespace
