#include "lazy_pages.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>

#include "ckpt/restart.h"
#include "restore_args.h"

namespace ckpt {
namespace {

using image::ImageReader;
using image::Region;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kEvents = UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP;
// Pages zeroed at once around a fault on a page the image does not store.
constexpr uint64_t kZeroRun = 64 * kPage;

std::string errno_text() { return std::strerror(errno); }

// A userfaultfd of this process with the events above, or -1 and `why`.
int open_uffd(std::string& why) {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0) {
    const std::string sys_err = errno_text();
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev >= 0) {
      fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
      close(dev);
    }
    if (fd < 0) {
      why = "userfaultfd: " + sys_err + " (vm.unprivileged_userfaultfd is 0 and /dev/userfaultfd is not ours)";
      return -1;
    }
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = kEvents;
  if (ioctl(fd, UFFDIO_API, &api) != 0 || (api.features & kEvents) != kEvents) {
    why = "userfaultfd lacks the remove/unmap/remap events: " + errno_text();
    close(fd);
    return -1;
  }
  return fd;
}

int64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
}

// The server's process: closes every descriptor but `keep` (it must not
// hold the application's pipes and sockets open), stdin and stdout go to
// /dev/null; stderr stays for its one-line errors.
void close_all_but(const std::vector<int>& keep) {
  std::vector<int> open_fds;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') open_fds.push_back(std::atoi(e->d_name));
    closedir(d);
  }
  for (int fd : open_fds)
    if (fd > 2 && std::find(keep.begin(), keep.end(), fd) == keep.end()) close(fd);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    if (null > 2) close(null);
  }
}

class PageServer {
 public:
  PageServer(const ImageReader& img, int uffd, int sock, int pidfd, pid_t pid)
      : img_(img), uffd_(uffd), sock_(sock), pidfd_(pidfd), pid_(pid) {}

  // Sets up the regions' chunk tables; false with error_ set.
  bool plan(const std::vector<const Region*>& regions) {
    for (const Region* r : regions) {
      Lazy& l = lazy_.emplace_back();
      l.r = r;
      if (!img_.chunks(*r, l.chunks, error_)) return false;
      uint64_t at = 0;
      for (const image::PageExtent& e : r->extents) {
        l.stream_at.push_back(at);
        at += e.size;
      }
      l.settled.assign((r->rec.end - r->rec.start) / kPage / 64 + 1, 0);
      l.chunk_done.assign(l.chunks.size(), 0);
      windows_.push_back({r->rec.start, r->rec.end, r->rec.start});
    }
    std::sort(lazy_.begin(), lazy_.end(), [](const Lazy& a, const Lazy& b) { return a.r->rec.start < b.r->rec.start; });
    std::sort(windows_.begin(), windows_.end(), [](const Window& a, const Window& b) { return a.cur < b.cur; });
    return true;
  }

  [[noreturn]] void run() {
    // The restorer says when the regions are registered.
    char go = 0;
    if (read(sock_, &go, 1) != 1 || go != 'g') _exit(0);  // the restore failed: nothing to serve
    // The small regions first (the C library's data, the heap, ours): what
    // the program touches first is most often there; then the big ones.
    std::vector<size_t> order(lazy_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return lazy_[a].chunks.size() < lazy_[b].chunks.size(); });
    for (size_t li : order)
      for (size_t ci = 0; ci < lazy_[li].chunks.size(); ++ci) {
        serve_pending();
        load_chunk(li, ci, true);
      }
    serve_pending();
    // Every stored page is in: the regions become plain memory (the pages
    // never stored are zero, as the kernel gives them).
    close(uffd_);
    ckpt_lazy_done done{1, 0, bytes_, monotonic_ns()};
    (void)write(sock_, &done, sizeof done);
    _exit(0);
  }

  const std::string& error() const { return error_; }

 private:
  struct Lazy {
    const Region* r;
    std::vector<ImageReader::Chunk> chunks;
    std::vector<uint64_t> stream_at;  // per extent: where it starts in the stream
    std::vector<uint64_t> settled;    // per page: in, or dropped by the application (never loaded again)
    std::vector<uint8_t> chunk_done;
  };
  // [cur, end) holds now the pages saved at orig.. (mremap moves them).
  struct Window {
    uint64_t cur, end, orig;
  };

  // The error ends the process before it uses a page it cannot have.
  [[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "ckpt_restart: %s: process %d stopped before using that memory\n", what.c_str(),
                 static_cast<int>(pid_));
    syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
    _exit(1);
  }
  // The process is gone (exited, exec'ed, killed): nothing left to serve.
  [[noreturn]] static void gone() { _exit(0); }

  Lazy* lazy_of(uint64_t orig, uint64_t* page = nullptr) {
    auto it = std::upper_bound(lazy_.begin(), lazy_.end(), orig,
                               [](uint64_t a, const Lazy& l) { return a < l.r->rec.start; });
    if (it == lazy_.begin()) return nullptr;
    --it;
    if (orig >= it->r->rec.end) return nullptr;
    if (page) *page = (orig - it->r->rec.start) / kPage;
    return &*it;
  }
  static bool is_settled(const Lazy& l, uint64_t page) { return (l.settled[page / 64] >> (page % 64)) & 1; }
  void settle(uint64_t orig, uint64_t end) {
    for (; orig < end; orig += kPage) {
      uint64_t page;
      if (Lazy* l = lazy_of(orig, &page)) l->settled[page / 64] |= 1ull << (page % 64);
    }
  }
  // windows_ is sorted by cur, and until an mremap moved one, every window
  // is where it was saved (cur == orig): lookups are binary searches even
  // with tens of thousands of regions.
  const Window* window_at(uint64_t cur) const {
    auto it = std::upper_bound(windows_.begin(), windows_.end(), cur,
                               [](uint64_t a, const Window& w) { return a < w.cur; });
    if (it == windows_.begin()) return nullptr;
    --it;
    return cur < it->end ? &*it : nullptr;
  }
  const Window* window_of_orig(uint64_t orig) const {
    if (!moved_) return window_at(orig);
    for (const Window& w : windows_)
      if (orig >= w.orig && orig < w.orig + (w.end - w.cur)) return &w;
    return nullptr;
  }
  std::vector<Window>::iterator first_window_ending_after(uint64_t addr) {
    return std::upper_bound(windows_.begin(), windows_.end(), addr,
                            [](uint64_t a, const Window& w) { return a < w.end; });
  }
  // Takes [lo, hi) out of the windows (keeping them sorted); its saved
  // pages are settled (dropped) unless `moved` receives them.
  void cut(uint64_t lo, uint64_t hi, std::vector<Window>* moved) {
    auto first = first_window_ending_after(lo);
    auto last = first;
    std::vector<Window> keep;
    for (; last != windows_.end() && last->cur < hi; ++last) {
      const Window& w = *last;
      uint64_t a = std::max(lo, w.cur), b = std::min(hi, w.end);
      if (w.cur < a) keep.push_back({w.cur, a, w.orig});
      if (b < w.end) keep.push_back({b, w.end, w.orig + (b - w.cur)});
      if (moved) moved->push_back({a, b, w.orig + (a - w.cur)});
      else settle(w.orig + (a - w.cur), w.orig + (b - w.cur));
    }
    windows_.insert(windows_.erase(first, last), keep.begin(), keep.end());
  }
  void on_event(const uffd_msg& m) {
    switch (m.event) {
      case UFFD_EVENT_PAGEFAULT: faults_.push_back(m.arg.pagefault.address & ~(kPage - 1)); break;
      case UFFD_EVENT_REMOVE:
        // madvise(DONTNEED): the range reads as zero from now on.
        for (auto it = first_window_ending_after(m.arg.remove.start); it != windows_.end() && it->cur < m.arg.remove.end;
             ++it) {
          uint64_t a = std::max<uint64_t>(m.arg.remove.start, it->cur), b = std::min<uint64_t>(m.arg.remove.end, it->end);
          if (a < b) settle(it->orig + (a - it->cur), it->orig + (b - it->cur));
        }
        break;
      case UFFD_EVENT_UNMAP: cut(m.arg.remove.start, m.arg.remove.end, nullptr); break;
      case UFFD_EVENT_REMAP: {
        const uint64_t from = m.arg.remap.from, to = m.arg.remap.to, len = m.arg.remap.len;
        std::vector<Window> moved;
        cut(from, from + len, &moved);
        cut(to, to + len, nullptr);
        for (Window& w : moved) windows_.push_back({w.cur - from + to, w.end - from + to, w.orig});
        std::sort(windows_.begin(), windows_.end(), [](const Window& a, const Window& b) { return a.cur < b.cur; });
        moved_ = moved_ || !moved.empty();
        break;
      }
      default: break;
    }
  }
  // Reads what the kernel has for us: events are applied at once, faults
  // queued. The application's munmap/mremap/madvise wait for this read.
  void read_events() {
    uffd_msg msgs[64];
    for (;;) {
      ssize_t n = read(uffd_, msgs, sizeof msgs);
      if (n <= 0) {
        if (n < 0 && errno != EAGAIN && errno != EINTR) gone();
        return;
      }
      for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof msgs[0]); ++i) on_event(msgs[i]);
    }
  }
  void serve_pending() {
    read_events();
    while (!faults_.empty()) {
      uint64_t addr = faults_.front();
      faults_.pop_front();
      serve_fault(addr);
      read_events();
    }
  }
  void serve_fault(uint64_t addr) {
    const Window* w = window_at(addr);
    uint64_t page = 0;
    Lazy* l = w ? lazy_of(w->orig + (addr - w->cur), &page) : nullptr;
    bool loaded = false;
    if (l && !is_settled(*l, page)) {
      int64_t ci = chunk_of(*l, page * kPage);
      if (ci >= 0) {
        load_chunk(static_cast<size_t>(l - lazy_.data()), static_cast<size_t>(ci));
        loaded = true;
      }
    }
    if (!loaded) zero(addr, w);
    uffdio_range wake{addr, kPage};
    ioctl(uffd_, UFFDIO_WAKE, &wake);
  }
  // The chunk holding the region's page at offset `off`, or -1 for a page
  // the image does not store (zero).
  static int64_t chunk_of(const Lazy& l, uint64_t off) {
    const auto& ext = l.r->extents;
    auto it = std::upper_bound(ext.begin(), ext.end(), off,
                               [](uint64_t o, const image::PageExtent& e) { return o < e.offset; });
    if (it == ext.begin()) return -1;
    --it;
    if (off >= it->offset + it->size) return -1;
    return static_cast<int64_t>((l.stream_at[it - ext.begin()] + off - it->offset) / image::kChunkSize);
  }
  // A zero page at `addr` (and its neighbours the image does not store
  // either, in the same window).
  void zero(uint64_t addr, const Window* w) {
    uint64_t len = kPage;
    if (w) {
      uint64_t page = 0;
      if (Lazy* l = lazy_of(w->orig + (addr - w->cur), &page)) {
        uint64_t limit = std::min(w->end - addr, kZeroRun);
        uint64_t base = l->r->rec.start + page * kPage;
        while (len < limit && base + len < l->r->rec.end && chunk_of(*l, page * kPage + len) < 0 &&
               !is_settled(*l, page + len / kPage))
          len += kPage;
      }
    }
    for (;;) {
      uffdio_zeropage z{{addr, len}, UFFDIO_ZEROPAGE_MODE_DONTWAKE, 0};
      if (ioctl(uffd_, UFFDIO_ZEROPAGE, &z) == 0) return;
      if (errno == ESRCH) gone();
      if (errno == EAGAIN) {
        read_events();
        return;  // the layout changed: the fault comes again if still wanted
      }
      if (len == kPage) return;  // EEXIST, ENOENT: there is a page, or no region, now
      len = kPage;
    }
  }
  // Copies `len` bytes to the current address of saved address `orig`,
  // page run by page run, skipping settled pages. False if the layout
  // changed meanwhile (the caller starts the chunk again).
  bool place(uint64_t orig, uint64_t len, const char* src) {
    for (uint64_t done = 0; done < len;) {
      uint64_t page;
      Lazy* l = lazy_of(orig + done, &page);
      if (!l || is_settled(*l, page)) {
        done += kPage;
        continue;
      }
      const Window* w = window_of_orig(orig + done);
      if (!w) {
        settle(orig + done, orig + done + kPage);  // unmapped
        done += kPage;
        continue;
      }
      uint64_t run = kPage;
      uint64_t window_left = w->orig + (w->end - w->cur) - (orig + done);
      while (done + run < len && run < window_left && !is_settled(*l, page + run / kPage)) run += kPage;
      uffdio_copy c{w->cur + (orig + done - w->orig), reinterpret_cast<uint64_t>(src + done), run, 0, 0};
      int rc = ioctl(uffd_, UFFDIO_COPY, &c);
      uint64_t copied = c.copy > 0 ? static_cast<uint64_t>(c.copy) : 0;
      settle(orig + done, orig + done + copied);
      bytes_ += copied;
      done += copied;
      if (rc == 0) continue;
      if (errno == ESRCH) gone();
      if (errno == EAGAIN) {
        read_events();
        return false;
      }
      if (errno == EEXIST || errno == ENOENT) {
        // A page there already, or no registered memory any more.
        settle(orig + done, orig + done + kPage);
        done += kPage;
        continue;
      }
      fail("image " + img_.path() + ": cannot place a page at 0x" + hex(c.dst) + ": " + errno_text());
    }
    return true;
  }
  // Loads chunk ci of lazy_[li] and places its pages. A chunk streamed in
  // (`streaming`) is read in pieces with the faults that came meanwhile
  // served between them (each loading its own chunk, in buffers of its
  // own): a page the program waits for does not wait for a whole 4 MiB
  // read of another chunk first.
  void load_chunk(size_t li, size_t ci, bool streaming = false) {
    Lazy& l = lazy_[li];
    if (l.chunk_done[ci]) return;
    const ImageReader::Chunk& c = l.chunks[ci];
    std::vector<char>& buf = streaming ? stream_buf_ : buf_;
    buf.resize(c.header.raw_size);
    std::string error;
    if (!img_.read_chunk(*l.r, c, buf.data(), streaming ? stream_stored_ : stored_, error,
                         streaming ? std::function<void()>([this] { serve_pending(); }) : std::function<void()>()))
      fail(error);
    if (l.chunk_done[ci]) return;  // a fault meanwhile needed this very chunk
    const auto& ext = l.r->extents;
    const uint64_t lo = c.raw_offset, hi = c.raw_offset + c.header.raw_size;
    for (bool again = true; again;) {
      again = false;
      size_t i = std::upper_bound(l.stream_at.begin(), l.stream_at.end(), lo) - l.stream_at.begin() - 1;
      for (uint64_t s = lo; s < hi && !again; ++i) {
        uint64_t e_end = l.stream_at[i] + ext[i].size;
        uint64_t n = std::min(hi, e_end) - s;
        uint64_t orig = l.r->rec.start + ext[i].offset + (s - l.stream_at[i]);
        again = !place(orig, n, buf.data() + (s - lo));
        s += n;
      }
    }
    l.chunk_done[ci] = 1;
  }
  static std::string hex(uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
  }

  const ImageReader& img_;
  int uffd_, sock_, pidfd_;
  pid_t pid_;
  std::vector<Lazy> lazy_;
  std::vector<Window> windows_;
  bool moved_ = false;  // an mremap moved a window: cur != orig somewhere
  std::deque<uint64_t> faults_;
  std::vector<char> buf_, stored_;               // chunks loaded for a fault
  std::vector<char> stream_buf_, stream_stored_;  // the chunk being streamed in
  uint64_t bytes_ = 0;
  std::string error_;
};

}  // namespace

bool lazy_pages_available(std::string& why) {
  int fd = open_uffd(why);
  if (fd < 0) return false;
  close(fd);
  return true;
}

bool loads_lazily(const ImageReader& /*img*/, const Region& r) {
  const uint32_t f = r.rec.flags;
  return (f & image::kRegionPrivate) && r.rec.stored_size > 0 && r.inherited.empty() &&
         !(f & (image::kRegionShared | image::kRegionStack | image::kRegionVdso | image::kRegionNoData |
                image::kRegionExternal | image::kRegionFileBacked | image::kRegionLost));
}

LazyServer start_lazy_server(const ImageReader& img, const std::vector<const Region*>& regions) {
  std::string why;
  int uffd = open_uffd(why);
  if (uffd < 0) throw RestartError("image " + img.path() + ": lazy restart: " + why);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw RestartError("lazy restart: socketpair: " + errno_text());
  const pid_t self = getpid();
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, self, 0));
  if (pidfd < 0) throw RestartError("lazy restart: pidfd_open: " + errno_text());
  PageServer server(img, uffd, sv[1], pidfd, self);
  if (!server.plan(regions)) throw RestartError(server.error());
  std::fflush(nullptr);
  pid_t mid = fork();
  if (mid < 0) throw RestartError("lazy restart: cannot fork the page server: " + errno_text());
  if (mid == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    prctl(PR_SET_NAME, "ckpt_lazy_pages");
    signal(SIGPIPE, SIG_IGN);
    std::vector<int> keep{uffd, sv[1], pidfd, img.fd()};
    close_all_but(keep);
    server.run();
  }
  int status = 0;
  while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  close(sv[1]);
  close(pidfd);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw RestartError("lazy restart: cannot start the page server");
  return {uffd, sv[0]};
}

}  // namespace ckpt
