// The pty kind's restart side (ckpt/restart.h), rank 65 (before the fd kind,
// which keeps the descriptors we put in place):
//
//   create   ckpt_restart opens a new pair for each saved one, with the same
//            /dev/pts number when that number is free, one slave description
//            per saved one, and puts back the settings, window size, the
//            bytes queued both ways (pty_refill.h), packet mode and lock;
//   session  the session leader that had the slave as controlling terminal
//            takes the new one (TIOCSCTTY) before it forks its session's
//            members, which inherit it;
//   install  each process dup2s its ends to their numbers; the session
//            leader gives the foreground to the saved group (every group
//            exists by then).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "ckpt/restart.h"
#include "pty_image.h"
#include "pty_refill.h"

namespace ckpt {
namespace {

using pty::PtyEnd;
using pty::PtyPair;
using pty::PtyRecord;
using pty::PtySectionData;

std::string errno_text(int err = errno) { return std::strerror(err); }

// A /dev/ptmx opening, /dev/pts/`want` if that number is free. The kernel
// gives out the lowest free number: openings below `want` are held until the
// next one is `want` itself or above it; then `want` is taken, and the
// lowest free number (the first one held) is used. Returns the master, or -1
// (errno set); *got is its number.
int open_master(uint32_t want, uint32_t* got) {
  std::vector<int> held;  // numbers below `want`, lowest first
  int master = -1;
  for (;;) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    unsigned index = 0;
    if (fd >= 0 && ioctl(fd, TIOCGPTN, &index) != 0) {
      close(fd);
      fd = -1;
    }
    if (fd >= 0 && index < want) {
      held.push_back(fd);
      continue;
    }
    if (fd >= 0 && (index == want || held.empty())) {
      master = fd;
      *got = index;
      break;
    }
    // `want` is taken, or no more pairs can be opened now.
    if (fd >= 0) close(fd);
    if (!held.empty()) {
      master = held.front();
      held.erase(held.begin());
      ioctl(master, TIOCGPTN, got);
    }
    break;
  }
  int err = errno;
  for (int fd : held) close(fd);
  errno = err;
  return master;
}

class PtyRestart : public RestartKind {
 public:
  const char* name() const override { return "pty"; }
  int rank() const override { return 65; }

  void check(RestartContext& ctx) override {
    for (const RestartProcess& p : ctx.processes) {
      sections_.emplace_back();
      for (const image::Section& s : p.image->sections()) {
        if (s.name != pty::kPtySection) continue;
        std::string why = pty::read_pty_section(s.data, p.ids.vpid, sections_.back());
        if (!why.empty()) throw RestartError("image " + p.image->path() + ": section pty: " + why);
      }
    }
    for (size_t p = 0; p < sections_.size(); ++p)
      for (const PtyPair& pair : sections_[p].pairs) leaders_[pair.pair_id] = {p, &pair};
    for (size_t p = 0; p < sections_.size(); ++p)
      for (const PtyRecord& r : sections_[p].records)
        if (!leaders_.count(r.pair_id))
          throw RestartError("fd " + std::to_string(r.fd) + " (pty " + pty::end_name(r.end) + " of /dev/pts/" +
                             std::to_string(r.index) + ") of " + ctx.processes[p].describe() +
                             " belongs to a pair that process " + std::to_string(pty::key_vpid(r.pair_id)) +
                             " saved, and no image given is its");
    for (auto& [id, leader] : leaders_) {
      const int32_t sid = leader.pair->session_vsid;
      if (sid && process_of(ctx, sid) == npos)
        throw RestartError("the pseudo-terminal /dev/pts/" + std::to_string(leader.pair->index) +
                           " controls session " + std::to_string(sid) + ", whose leader is not among the images");
      if (sid && ctx.processes[process_of(ctx, sid)].ids.vsid != sid)
        throw RestartError("the pseudo-terminal /dev/pts/" + std::to_string(leader.pair->index) + " controls session " +
                           std::to_string(sid) + ", but process " + std::to_string(sid) + " does not lead it");
    }
  }

  void create(RestartContext& ctx) override {
    if (leaders_.empty()) return;
    // Each process's new pid, written by the process itself (created) and
    // read by the session leaders (install): shared across the forks.
    real_pids_size_ = ctx.processes.size() * sizeof(pid_t);
    void* mem = mmap(nullptr, real_pids_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throw RestartError("cannot map the table of new pids for the pseudo-terminals: " + errno_text());
    real_pids_ = static_cast<pid_t*>(mem);
    for (auto& [id, leader] : leaders_) make_pair(ctx, leader.process, *leader.pair);
  }

  void created(const RestartContext& ctx, int32_t vpid, int32_t, bool zombie, pid_t real_pid) override {
    if (!real_pids_ || zombie) return;
    size_t p = process_of(ctx, vpid);
    if (p != npos) real_pids_[p] = real_pid;
  }

  void session(const RestartContext&, int32_t vpid) override {
    for (auto& [id, made] : made_) {
      const PtyPair& pair = *leaders_.at(id).pair;
      if (pair.session_vsid != vpid) continue;
      if (ioctl(made.helper, TIOCSCTTY, 0) != 0)
        throw RestartError("cannot make the pseudo-terminal " + made.name() + " the controlling terminal of session " +
                           std::to_string(vpid) + " again (TIOCSCTTY): " + errno_text());
    }
  }

  void install(const RestartContext& ctx, size_t process, const std::vector<int32_t>&) override {
    if (process >= sections_.size()) return;
    for (const PtyRecord& r : sections_[process].records) {
      const Made& made = made_.at(r.pair_id);
      int src = r.end == PtyEnd::Master ? made.master : made.slaves.at(r.desc_id);
      if (dup2(src, r.fd) < 0)
        throw RestartError("cannot put pty descriptor " + std::to_string(r.fd) + " in place: " + errno_text());
      fcntl(r.fd, F_SETFD, r.fd_flags & FD_CLOEXEC);
    }
    const int32_t vpid = ctx.processes[process].ids.vpid;
    for (auto& [id, made] : made_) {
      const PtyPair& pair = *leaders_.at(id).pair;
      if (pair.session_vsid != vpid || !pair.fg_vpgid || pair.fg_vpgid == vpid) continue;
      pid_t group = real_group(ctx, pair.fg_vpgid);
      if (group <= 0)
        throw RestartError("the foreground process group " + std::to_string(pair.fg_vpgid) + " of " + made.name() +
                           " has no process among the images");
      // This process leads the session and its terminal's foreground group
      // (TIOCSCTTY made it so): no SIGTTOU.
      if (ioctl(made.helper, TIOCSPGRP, &group) != 0)
        throw RestartError("cannot give the foreground of " + made.name() + " back to process group " +
                           std::to_string(pair.fg_vpgid) + ": " + errno_text());
    }
  }

  void finish(RestartContext&) override { close_all(); }
  void abort(RestartContext&) override { close_all(); }

 private:
  struct Leader {
    size_t process;
    const PtyPair* pair;
  };
  // A new pair, at transport numbers (above ctx.fd_floor).
  struct Made {
    int master = -1;
    int helper = -1;  // a slave description of ckpt_restart's own: refill, TIOCSCTTY, TIOCSPGRP
    uint32_t index = 0;
    std::map<uint64_t, int> slaves;  // desc_id -> slave description
    std::string name() const { return "/dev/pts/" + std::to_string(index); }
  };

  static constexpr size_t npos = ~size_t{0};
  size_t process_of(const RestartContext& ctx, int32_t vpid) const {
    for (size_t p = 0; p < ctx.processes.size(); ++p)
      if (ctx.processes[p].ids.vpid == vpid) return p;
    return npos;
  }

  // The new id of the process group saved as vpgid: that of any process
  // that was in it.
  pid_t real_group(const RestartContext& ctx, int32_t vpgid) const {
    for (size_t p = 0; p < ctx.processes.size(); ++p)
      if (ctx.processes[p].ids.vpgid == vpgid && real_pids_[p] > 0) return getpgid(real_pids_[p]);
    return -1;
  }

  int lifted(const RestartContext& ctx, int fd, const std::string& what) {
    if (fd < 0) throw RestartError("cannot make " + what + ": " + errno_text());
    int high = fcntl(fd, F_DUPFD_CLOEXEC, ctx.fd_floor);
    int err = errno;
    close(fd);
    if (high < 0) throw RestartError("cannot make " + what + ": no descriptor number free: " + errno_text(err));
    all_.push_back(high);
    return high;
  }

  void make_pair(const RestartContext& ctx, size_t leader, const PtyPair& pair) {
    const std::string saved_name = "/dev/pts/" + std::to_string(pair.index);
    const std::string what = "a pseudo-terminal for " + saved_name + " of " + ctx.processes[leader].describe();
    Made& made = made_[pair.pair_id];
    made.master = lifted(ctx, open_master(pair.index, &made.index), what);
    int unlock = 0;
    if (ioctl(made.master, TIOCSPTLCK, &unlock) != 0) throw RestartError("cannot unlock " + what + ": " + errno_text());
    made.helper = lifted(ctx, ioctl(made.master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), what);
    // One slave description per saved one, each with its own access mode and
    // status flags; the master's as its leader had them.
    for (size_t p = 0; p < sections_.size(); ++p)
      for (const PtyRecord& r : sections_[p].records) {
        if (r.pair_id != pair.pair_id) continue;
        const int status = static_cast<int>(r.status_flags) & (O_NONBLOCK | O_APPEND | O_ASYNC);
        if (r.end == PtyEnd::Master) {
          if (pty::key_vpid(r.desc_id) == ctx.processes[p].ids.vpid && pty::key_fd(r.desc_id) == r.fd)
            fcntl(made.master, F_SETFL, status);
          continue;
        }
        if (made.slaves.count(r.desc_id)) continue;
        int access = static_cast<int>(r.status_flags) & O_ACCMODE;
        int fd = lifted(ctx, ioctl(made.master, TIOCGPTPEER, access | O_NOCTTY | O_CLOEXEC), "the slave of " + what);
        fcntl(fd, F_SETFL, status);
        made.slaves[r.desc_id] = fd;
      }
    struct winsize ws{pair.ws_row, pair.ws_col, pair.ws_xpixel, pair.ws_ypixel};
    if (ioctl(made.master, TIOCSWINSZ, &ws) != 0) throw RestartError("cannot set the window size of " + what + ": " + errno_text());
    const PtySectionData& s = sections_[leader];
    pty::RefillError err;
    long rc = pty::pty_refill(made.master, made.helper, pair.termios, pair.flags & pty::kPairPacket,
                              s.bytes.data() + pair.input_offset, pair.input_len, s.bytes.data() + pair.output_offset,
                              pair.output_len, err);
    if (rc < 0) throw RestartError("cannot restore " + what + ": " + err.step + ": " + errno_text(static_cast<int>(-rc)));
    if (pair.flags & pty::kPairLocked) {
      int lock = 1;
      ioctl(made.master, TIOCSPTLCK, &lock);
    }
    // Every slave descriptor had been closed: the master reads what is left,
    // then EIO, as it did.
    if ((pair.flags & pty::kPairSlaveClosed) && made.slaves.empty()) {
      close(made.helper);
      std::erase(all_, made.helper);
      made.helper = -1;
    }
    if (made.index != pair.index)
      std::fprintf(stderr,
                   "ckpt_restart: warning: the pseudo-terminal %s of %s is /dev/pts/%u now (%s is taken): a name the "
                   "program kept (ptsname, ttyname) names another terminal\n",
                   saved_name.c_str(), ctx.processes[leader].describe().c_str(), made.index, saved_name.c_str());
  }

  void close_all() {
    for (int fd : all_) close(fd);
    all_.clear();
    made_.clear();
    if (real_pids_) munmap(real_pids_, real_pids_size_);
    real_pids_ = nullptr;
  }

  std::vector<PtySectionData> sections_;  // by process
  std::map<uint64_t, Leader> leaders_;    // pair_id -> the image that saved the pair
  std::map<uint64_t, Made> made_;         // pair_id -> the new pair
  std::vector<int> all_;                  // every transport descriptor
  pid_t* real_pids_ = nullptr;            // by process, MAP_SHARED
  size_t real_pids_size_ = 0;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::PtyRestart)
