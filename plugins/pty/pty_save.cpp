#include "pty_save.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/computation_processes.h"
#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "pty_section.h"
#include "pty_refill.h"

namespace ckpt::pty {
namespace {

struct Own {
  int fd;
  PtyEnd end;
  uint32_t index;
};

using Peer = ComputationProcess;

// A pty end somewhere in the computation.
struct Holder {
  pid_t vpid;
  pid_t real;
  int fd;
  PtyEnd end;
  uint32_t index;
  uint64_t key() const { return static_cast<uint64_t>(static_cast<uint32_t>(vpid)) << 32 | static_cast<uint32_t>(fd); }
};

// A pair drained and refilled at DRAIN.
// Its slave descriptor (ours, from TIOCGPTPEER) is g_slave_fds at the same
// index.
struct Drained {
  int master;
  uint32_t pair;  // index into g_pairs
};

// Claimed at PRE_CHECKPOINT, described at DRAIN; everything else lives for
// one DRAIN.
MappedArray<Own> g_own;
MappedArray<Peer> g_peers;
MappedArray<Holder> g_holders;
MappedArray<PtyRecord> g_records;
MappedArray<PtyPair> g_pairs;
MappedArray<Drained> g_drained;
MappedArray<int> g_fds;
MappedBuffer g_bytes;
MappedBuffer g_text;
MappedBuffer g_section;
uint64_t g_devpts_dev;
// Where protect_fd keeps each drained pair's slave descriptor, in libckpt's
// protected range (not the application's, nor the fd plugin's to save): a
// fixed place, where it writes the new number if the descriptor moves.
int g_slave_fds[64];

void release_scan() {
  g_peers.release();
  g_holders.release();
  g_records.release();
  g_fds.release();
  g_text.release();
  g_section.release();
}

void release_all() {
  release_scan();
  g_pairs.release();
  g_drained.release();
  g_bytes.release();
}

bool has_prefix(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

// N of "/dev/pts/N", or -1.
long pts_number(const char* link) {
  if (!has_prefix(link, "/dev/pts/")) return -1;
  const char* p = link + 9;
  if (!*p) return -1;
  long n = 0;
  for (; *p; ++p) {
    if (*p < '0' || *p > '9' || n > 1 << 20) return -1;
    n = n * 10 + (*p - '0');
  }
  return n;
}

// Which end of a pty descriptor `fd` of process `pid` (0: this one) is, and
// its number; false if it is none (or another devpts instance's slave).
bool pty_end_of(pid_t pid, int fd, PtyEnd* end, uint32_t* index) {
  char link[64];
  if (read_link(proc_path(pid, "fd", fd).c_str(), link, sizeof link) <= 0) return false;
  if (strcmp(link, "/dev/ptmx") == 0 || strcmp(link, "/dev/pts/ptmx") == 0) {
    char info[512];
    uint64_t n;
    if (read_small_file(proc_path(pid, "fdinfo", fd).c_str(), info, sizeof info) <= 0 ||
        !find_number_field(info, "tty-index", 10, &n))
      return false;
    *end = PtyEnd::Master;
    *index = static_cast<uint32_t>(n);
    return true;
  }
  long n = pts_number(link);
  if (n < 0) return false;
  struct stat st;
  if (raw_syscall(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>(proc_path(pid, "fd", fd).c_str()),
                  reinterpret_cast<long>(&st), 0) != 0 ||
      !S_ISCHR(st.st_mode) || st.st_dev != g_devpts_dev)
    return false;
  *end = PtyEnd::Slave;
  *index = static_cast<uint32_t>(n);
  return true;
}

bool list_peers() { return list_computation_processes(g_peers) > 0; }

// Every pty end of the computation's processes (this one first).
bool list_holders() {
  g_holders.clear();
  for (size_t p = 0; p < g_peers.size(); ++p) {
    const Peer peer = g_peers[p];
    const bool self = p == 0;
    g_fds.clear();
    if (list_fds(self ? 0 : peer.real, g_fds) < 0) continue;  // gone, or a zombie
    for (size_t i = 0; i < g_fds.size(); ++i) {
      if (self && ckpt_is_protected_fd(g_fds[i])) continue;
      PtyEnd end;
      uint32_t index;
      if (pty_end_of(self ? 0 : peer.real, g_fds[i], &end, &index) &&
          !g_holders.push({peer.vpid, peer.real, g_fds[i], end, index}))
        return false;
    }
  }
  return true;
}

// The lowest holder of the master of /dev/pts/`index`, or null.
const Holder* master_of(uint32_t index) {
  const Holder* best = nullptr;
  for (size_t i = 0; i < g_holders.size(); ++i) {
    const Holder& h = g_holders[i];
    if (h.end == PtyEnd::Master && h.index == index && (!best || h.key() < best->key())) best = &h;
  }
  return best;
}

bool slave_held(uint32_t index) {
  for (size_t i = 0; i < g_holders.size(); ++i)
    if (g_holders[i].end == PtyEnd::Slave && g_holders[i].index == index) return true;
  return false;
}

long kcmp(pid_t a, pid_t b, int type, long x, long y) { return raw_syscall(SYS_kcmp, a, b, type, x, y); }

// A line "fd N (the pty master of /dev/pts/K): TEXT..." that fails the
// checkpoint.
class Problem {
 public:
  Problem(int fd, PtyEnd end, uint32_t index) : text_(line_, sizeof line_) {
    ShortText head;
    head.add("fd ").dec(fd).add(end == PtyEnd::Master ? " (the pty master of /dev/pts/" : " (/dev/pts/").dec(index).add(
        end == PtyEnd::Master ? "): " : ", a pty slave): ");
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
  void fail() { ckpt_fail_checkpoint(line_); }
  void warn() { ckpt_checkpoint_warning(line_); }

 private:
  char line_[400];
  MessageText text_;
};

// Reads everything `fd` (non-blocking) has into g_bytes; returns how much.
uint32_t read_all(int fd, bool* ok) {
  size_t start = g_bytes.size();
  for (;;) {
    char* room = g_bytes.grow_for(4096);
    if (!room) {
      *ok = false;
      break;
    }
    long n = raw_syscall(SYS_read, fd, reinterpret_cast<long>(room), 4096);
    if (n == -EINTR) continue;
    if (n <= 0) break;  // 0 (VMIN 0), EAGAIN: empty; EIO: a master whose slave is closed, emptied
    g_bytes.commit(static_cast<size_t>(n));
  }
  return static_cast<uint32_t>(g_bytes.size() - start);
}

// The process group `real_pgrp` has a member in the computation.
bool group_inside(pid_t real_pgrp) {
  for (size_t p = 0; p < g_peers.size(); ++p)
    if (raw_syscall(SYS_getpgid, g_peers[p].real) == real_pgrp) return true;
  return false;
}

// The state of the pair whose master is own.fd, led by this process;
// drains its queues (put back before DRAIN ends). False: the checkpoint failed.
bool save_pair(const Own& own, uint64_t pair_id) {
  const int master = own.fd;
  PtyPair pair{};
  pair.pair_id = pair_id;
  pair.index = own.index;
  auto problem = [&]() { return Problem(own.fd, own.end, own.index); };
  if (raw_syscall(SYS_ioctl, master, kGetTermios, reinterpret_cast<long>(&pair.termios)) != 0) {
    problem().add("its settings cannot be read (TCGETS2)").fail();
    return false;
  }
  struct winsize ws{};
  raw_syscall(SYS_ioctl, master, TIOCGWINSZ, reinterpret_cast<long>(&ws));
  pair.ws_row = ws.ws_row, pair.ws_col = ws.ws_col, pair.ws_xpixel = ws.ws_xpixel, pair.ws_ypixel = ws.ws_ypixel;
  int packet = 0, locked = 0;
  raw_syscall(SYS_ioctl, master, TIOCGPKT, reinterpret_cast<long>(&packet));
  raw_syscall(SYS_ioctl, master, TIOCGPTLCK, reinterpret_cast<long>(&locked));
  if (packet) pair.flags |= kPairPacket;
  if (locked) pair.flags |= kPairLocked;

  // The session it controls: its leader must be ours, to take it back as
  // its controlling terminal after a restart.
  pid_t sid = 0, pgrp = 0;
  if (raw_syscall(SYS_ioctl, master, TIOCGSID, reinterpret_cast<long>(&sid)) == 0 && sid > 0) {
    bool leader_inside = false;
    for (size_t p = 0; p < g_peers.size(); ++p) leader_inside |= g_peers[p].real == sid;
    if (!leader_inside) {
      problem().add("it is the controlling terminal of session ").dec(sid)
          .add(", whose leader is not in the computation: a restart could not give it back").fail();
      return false;
    }
    pair.session_vsid = ckpt_virtual_pid(sid);
    pair.fg_vpgid = pair.session_vsid;
    if (raw_syscall(SYS_ioctl, master, TIOCGPGRP, reinterpret_cast<long>(&pgrp)) == 0 && pgrp > 0) {
      if (group_inside(pgrp)) pair.fg_vpgid = ckpt_virtual_pid(pgrp);
      else
        problem().add("its foreground process group ").dec(pgrp)
            .add(" has no process in the computation: after a restart the session leader's group is in the foreground").warn();
    }
  }

  // The slave's side: POLLHUP on the master says every slave descriptor was
  // closed after use. A slave neither held in the computation nor closed was
  // never opened or is held outside: nothing here can tell which, nor read
  // what waits for it without changing that.
  struct pollfd pfd = {master, 0, 0};
  raw_syscall(SYS_poll, reinterpret_cast<long>(&pfd), 1, 0);
  const bool closed = (pfd.revents & POLLHUP) != 0;
  if (closed) pair.flags |= kPairSlaveClosed;
  if (!closed && !slave_held(own.index)) {
    problem().add("no process of the computation holds its slave side and it was never closed: it was not opened yet "
                  "or a process outside the computation holds it, and ckpt cannot tell which")
        .fail();
    return false;
  }
  if (pair.session_vsid && closed) {
    problem().add("it is a controlling terminal whose slave side is closed").fail();
    return false;
  }

  // Our own slave descriptor, to read the input queue and write the output
  // back: a locked slave cannot be opened, so it is unlocked for that moment.
  int unlock = 0;
  if (locked) raw_syscall(SYS_ioctl, master, TIOCSPTLCK, reinterpret_cast<long>(&unlock));
  long slave = raw_syscall(SYS_ioctl, master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (locked) raw_syscall(SYS_ioctl, master, TIOCSPTLCK, reinterpret_cast<long>(&locked));
  if (slave < 0) {
    problem().add("its slave side cannot be opened to read what is queued (TIOCGPTPEER): errno ").dec(-slave).fail();
    return false;
  }
  size_t n = g_drained.size();
  if (n >= sizeof g_slave_fds / sizeof g_slave_fds[0] || !g_pairs.push(pair)) {
    raw_syscall(SYS_close, slave);
    problem().add("out of memory for the pseudo-terminals").fail();
    return false;
  }
  g_slave_fds[n] = static_cast<int>(slave);
  ckpt_protect_fd(static_cast<int>(slave), &g_slave_fds[n]);  // not an fd of the application's
  if (!g_drained.push({master, static_cast<uint32_t>(g_pairs.size() - 1)})) {
    ckpt_close_protected_fd(g_slave_fds[n]);
    problem().add("out of memory for the pseudo-terminals").fail();
    return false;
  }
  PtyPair& saved = g_pairs[g_pairs.size() - 1];

  // Input: in non-canonical mode the whole queue reads out, an unfinished
  // line too. Output: from the master, without packet mode's status bytes.
  bool ok = true;
  KernelTermios raw = saved.termios;
  raw.c_lflag &= ~uint32_t{ICANON};
  raw.c_cc[VMIN] = 0;
  raw.c_cc[VTIME] = 0;
  raw_syscall(SYS_ioctl, master, kSetTermios, reinterpret_cast<long>(&raw));
  saved.input_offset = static_cast<uint32_t>(g_bytes.size());
  saved.input_len = read_all(g_slave_fds[n], &ok);
  int off = 0;
  if (packet) raw_syscall(SYS_ioctl, master, TIOCPKT, reinterpret_cast<long>(&off));
  long flags = raw_syscall(SYS_fcntl, master, F_GETFL);
  raw_syscall(SYS_fcntl, master, F_SETFL, flags | O_NONBLOCK);
  saved.output_offset = static_cast<uint32_t>(g_bytes.size());
  saved.output_len = read_all(master, &ok);
  raw_syscall(SYS_fcntl, master, F_SETFL, flags);
  if (!ok) {
    problem().add("out of memory for the bytes queued in it").fail();
    return false;
  }
  return true;
}

// Describes own (its pair and description); the leader of a pair saves it.
bool describe(const Peer& self, const Own& own) {
  PtyRecord r{};
  r.fd = own.fd;
  r.end = own.end;
  r.index = own.index;
  long fd_flags = raw_syscall(SYS_fcntl, own.fd, F_GETFD), status = raw_syscall(SYS_fcntl, own.fd, F_GETFL);
  if (fd_flags < 0 || status < 0) return true;  // closed since the claim: only libckpt's threads run
  r.fd_flags = static_cast<uint32_t>(fd_flags);
  r.status_flags = static_cast<uint32_t>(status);
  const Holder me{self.vpid, self.real, own.fd, own.end, own.index};
  const Holder* master = master_of(own.index);
  if (!master) {
    Problem(own.fd, own.end, own.index).add("its master was closed during the checkpoint; try again").fail();
    return false;
  }
  r.pair_id = master->key();
  r.desc_id = r.pair_id;
  if (own.end == PtyEnd::Slave) {
    r.desc_id = me.key();
    for (size_t i = 0; i < g_holders.size(); ++i) {
      const Holder& h = g_holders[i];
      if (h.end != PtyEnd::Slave || h.index != own.index || h.key() >= r.desc_id) continue;
      long same = kcmp(self.real, h.real, KCMP_FILE, own.fd, h.fd);
      if (same == 0) r.desc_id = h.key();
      else if (same < 0 && same != -EBADF && same != -ESRCH) {
        Problem(own.fd, own.end, own.index)
            .add("cannot tell whether another descriptor shares it: kcmp fails with errno ").dec(-same).fail();
        return false;
      }
    }
  }
  if (own.end == PtyEnd::Master && r.pair_id == me.key() && !save_pair(own, r.pair_id)) return false;
  if (!g_records.push(r)) {
    ckpt_fail_checkpoint("out of memory for the pseudo-terminal descriptors");
    return false;
  }
  return true;
}

// Puts every pair drained here back as it was (the queued bytes, then the
// saved settings) and frees the drain's state. This happens before DRAIN
// returns, while every process of the computation is still frozen: after
// REFILLED each process runs again as soon as its own RESUME is done, so a
// refill at RESUME let the process on the slave run while the one holding
// the master still had the drain's settings (non-canonical, echo) in place
// (DMTCP's pty2 saw the changed termios and exited).
void put_back_drained() {
  for (size_t i = 0; i < g_drained.size(); ++i) {
    const Drained d = g_drained[i];
    const PtyPair& pair = g_pairs[d.pair];
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(g_bytes.data());
    RefillError err;
    long rc = pty_refill(d.master, g_slave_fds[i], pair.termios, pair.flags & kPairPacket, bytes + pair.input_offset,
                         pair.input_len, bytes + pair.output_offset, pair.output_len, err);
    if (rc < 0) {
      char line[300];
      MessageText(line, sizeof line)
          .add(ShortText().add("pty master fd ").dec(d.master).add(" (/dev/pts/").dec(pair.index).add(")").c_str())
          .add(": after the checkpoint, ")
          .add(err.step)
          .add(ShortText().add(" failed with errno ").dec(-rc).add(": bytes queued in it may be lost").c_str());
      ckpt_log_warning(line);
    }
    ckpt_close_protected_fd(g_slave_fds[i]);
  }
  release_all();
}

bool find_devpts() {
  struct stat st;
  if (raw_syscall(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>("/dev/pts"), reinterpret_cast<long>(&st), 0) != 0)
    return false;
  g_devpts_dev = st.st_dev;
  return true;
}

}  // namespace

void claim_pty_fds() {
  g_own.clear();
  if (!find_devpts()) return;  // no /dev/pts: no pseudo-terminal either
  MappedArray<int> fds;
  bool others_listed = false;
  if (list_fds(0, fds) >= 0)
    for (size_t i = 0; i < fds.size(); ++i) {
      if (ckpt_is_protected_fd(fds[i])) continue;
      PtyEnd end;
      uint32_t index;
      if (!pty_end_of(0, fds[i], &end, &index)) continue;
      // A slave is ours only if its master is in the computation; the
      // others are terminals outside it (the fd plugin's Tty).
      if (end == PtyEnd::Slave) {
        if (!others_listed && (!list_peers() || !list_holders())) {
          ckpt_fail_checkpoint("out of memory for the pseudo-terminals of the computation");
          break;
        }
        others_listed = true;
        if (!master_of(index)) continue;
      }
      if (!g_own.push({fds[i], end, index})) {
        ckpt_fail_checkpoint("out of memory for the list of pseudo-terminal descriptors");
        break;
      }
      ckpt_claim_fd(fds[i]);
    }
  fds.release();
  release_scan();
}

void checkpoint_pty_fds() {
  release_all();
  if (!find_devpts()) return;
  if (!list_peers() || !list_holders()) {
    ckpt_fail_checkpoint("out of memory for the pseudo-terminals of the computation");
    release_scan();
    return;
  }
  const Peer self = g_peers[0];
  // A slave of a master inside that was not claimed (its master appeared
  // after PRE_CHECKPOINT) would come back as ckpt_restart's own terminal.
  for (size_t i = 0; i < g_holders.size(); ++i) {
    const Holder& h = g_holders[i];
    if (h.vpid != self.vpid || h.end != PtyEnd::Slave || !master_of(h.index)) continue;
    bool claimed = false;
    for (size_t k = 0; k < g_own.size(); ++k) claimed |= g_own[k].fd == h.fd;
    if (!claimed) {
      Problem(h.fd, h.end, h.index).add("its master was opened during the checkpoint; try again").fail();
      release_scan();
      return;
    }
  }
  if (g_own.size() == 0) {
    release_scan();
    return;
  }
  for (size_t i = 0; i < g_own.size(); ++i)
    if (!describe(self, g_own[i])) {
      put_back_drained();
      return;
    }
  PtySectionHeader h{kPtySectionVersion, static_cast<uint32_t>(g_records.size()), static_cast<uint32_t>(g_pairs.size()),
                     static_cast<uint32_t>(g_bytes.size())};
  bool built = g_section.append(&h, sizeof h) != MappedBuffer::kFailed &&
               g_section.append(g_records.data(), g_records.size() * sizeof(PtyRecord)) != MappedBuffer::kFailed &&
               g_section.append(g_pairs.data(), g_pairs.size() * sizeof(PtyPair)) != MappedBuffer::kFailed &&
               g_section.append(g_bytes.data(), g_bytes.size()) != MappedBuffer::kFailed;
  if (!built) ckpt_fail_checkpoint("out of memory for section pty");
  else ckpt_save_section(kPtySection, g_section.data(), g_section.size());
  put_back_drained();
}

}  // namespace ckpt::pty
