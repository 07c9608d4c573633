// The socket kind's restart side (ckpt/restart.h). ckpt_restart makes every
// socket once, at a transport number, and each process dup2s its own to
// their saved numbers (install, before the fd kind closes the rest):
//   - listening sockets are bound again at their address and listen;
//   - a connection between two processes of the computation is made anew
//     between the two new ends (a socketpair for UNIX sockets, a loopback TCP
//     connection for TCP), and the bytes that were in flight are written
//     into it in order: each end's receive queue through the other end, and
//     what each end had sent that the other had not read through itself;
//   - a connection whose peer was outside the computation (or had closed)
//     comes back closed: its reads see the bytes still queued, then
//     end-of-file, and writes fail with EPIPE; ckpt_restart warns;
//   - a connection that waited in a listener's accept queue connects to the
//     new listener, where the application accepts it again;
//   - datagram sockets are bound (and connected) again, their queued
//     datagrams sent to them again, from the sender's new socket where the
//     sender was in the computation.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "ckpt/restart.h"
#include "socket_address.h"
#include "socket_section.h"

namespace ckpt {
namespace {

using socket::DatagramHeader;
using socket::PeerKind;
using socket::SocketRecord;
using socket::SocketState;

std::string errno_text() { return std::strerror(errno); }

// socket_address.h's text, with "unnamed" (a UNIX socket pair's end) or "?".
std::string address_text(int family, const uint8_t* addr, uint32_t len) {
  std::string text = socket::address_text(family, addr, len);
  return !text.empty() ? text : family == AF_UNIX ? "unnamed" : "?";
}

const char* kind_text(const SocketRecord& r) {
  if (r.family == AF_UNIX) return r.type == SOCK_STREAM ? "UNIX stream socket" : r.type == SOCK_DGRAM ? "UNIX datagram socket" : "UNIX seqpacket socket";
  return r.type == SOCK_STREAM ? "TCP socket" : "UDP socket";
}

struct ProcessSockets {
  std::vector<SocketRecord> records;
};

class SocketRestart : public RestartKind {
 public:
  const char* name() const override { return "socket"; }
  // Before the fd kind (90), which keeps what we put in place.
  int rank() const override { return 60; }

  void check(RestartContext& ctx) override {
    for (const RestartProcess& p : ctx.processes) {
      processes_.push_back(read_records(p));
      for (const image::Section& s : p.image->sections()) {
        if (s.name.rfind(socket::kInBytesPrefix, 0) == 0) in_[ino_of(s.name, socket::kInBytesPrefix)] = &s;
        if (s.name.rfind(socket::kOutBytesPrefix, 0) == 0) out_[ino_of(s.name, socket::kOutBytesPrefix)] = &s;
      }
    }
    for (size_t p = 0; p < processes_.size(); ++p)
      for (const SocketRecord& r : processes_[p].records)
        if (!by_ino_.count(r.ino)) by_ino_[r.ino] = {p, &r};
  }

  void create(RestartContext& ctx) override {
    floor_ = ctx.fd_floor;
    // Listeners and bound sockets first: connections that waited in a
    // listener's queue, and datagram sockets connected to a bound one,
    // connect to them.
    for (auto& [ino, where] : by_ino_) {
      auto state = static_cast<SocketState>(where.second->state);
      if (state == SocketState::Listening || state == SocketState::Bound) make(ctx, where.first, *where.second);
    }
    for (auto& [ino, where] : by_ino_)
      if (!made_.count(ino)) make(ctx, where.first, *where.second);
    // Datagrams last: their senders exist now.
    for (auto& [ino, where] : by_ino_) refill_datagrams(ctx, where.first, *where.second);
    for (auto& [ino, where] : by_ino_) finish_socket(*where.second);
  }

  void install(const RestartContext&, size_t process, const std::vector<int32_t>&) override {
    if (process >= processes_.size()) return;
    for (const SocketRecord& r : processes_[process].records) {
      auto it = made_.find(r.ino);
      if (it == made_.end()) continue;
      if (dup2(it->second, r.fd) < 0)
        throw RestartError("cannot put socket descriptor " + std::to_string(r.fd) + " in place: " + errno_text());
      fcntl(r.fd, F_SETFD, r.fd_flags & FD_CLOEXEC);
    }
  }

  void finish(RestartContext&) override { close_all(); }
  void abort(RestartContext&) override { close_all(); }

 private:
  static uint64_t ino_of(const std::string& name, const char* prefix) {
    return std::strtoull(name.c_str() + std::strlen(prefix), nullptr, 10);
  }

  static ProcessSockets read_records(const RestartProcess& p) {
    ProcessSockets out;
    const image::Section* section = nullptr;
    for (const image::Section& s : p.image->sections())
      if (s.name == socket::kSocketSection) section = &s;
    if (!section) return out;
    const std::vector<uint8_t>& d = section->data;
    auto bad = [&](const std::string& why) {
      throw RestartError("image " + p.image->path() + ": section " + socket::kSocketSection + " " + why);
    };
    socket::SocketSectionHeader h;
    if (d.size() < sizeof h) bad("is too short");
    std::memcpy(&h, d.data(), sizeof h);
    if (h.version != socket::kSocketSectionVersion)
      bad("has version " + std::to_string(h.version) + ", this ckpt_restart reads version " +
          std::to_string(socket::kSocketSectionVersion));
    if (d.size() != sizeof h + uint64_t{h.count} * sizeof(SocketRecord)) bad("size does not match its " + std::to_string(h.count) + " records");
    out.records.resize(h.count);
    if (h.count) std::memcpy(out.records.data(), d.data() + sizeof h, h.count * sizeof(SocketRecord));
    for (const SocketRecord& r : out.records) {
      bool family_ok = r.family == AF_UNIX || r.family == AF_INET || r.family == AF_INET6;
      bool type_ok = r.type == SOCK_STREAM || r.type == SOCK_DGRAM || (r.type == SOCK_SEQPACKET && r.family == AF_UNIX);
      if (r.fd < 0 || !family_ok || !type_ok || r.local_len > sizeof r.local || r.peer_len > sizeof r.peer ||
          r.option_count > socket::kMaxOptions || r.state > static_cast<uint32_t>(SocketState::Connected) ||
          r.peer_kind > static_cast<uint32_t>(PeerKind::Remote) || r.ino == 0)
        bad("has a malformed record for descriptor " + std::to_string(r.fd));
      for (uint32_t i = 0; i < r.option_count; ++i)
        if (r.options[i].len > sizeof r.options[i].value) bad("has a malformed option for descriptor " + std::to_string(r.fd));
    }
    return out;
  }

  std::string describe(const RestartContext& ctx, size_t process, const SocketRecord& r) const {
    std::string text = ctx.processes[process].describe() + ": fd " + std::to_string(r.fd) + ", a " + kind_text(r);
    if (r.local_len > sizeof(sa_family_t)) text += " at " + address_text(r.family, r.local, r.local_len);
    if (r.peer_len) text += " connected to " + address_text(r.family, r.peer, r.peer_len);
    return text;
  }

  [[noreturn]] void fail(const RestartContext& ctx, size_t process, const SocketRecord& r, const std::string& why) const {
    throw RestartError("cannot restore " + describe(ctx, process, r) + ": " + why);
  }

  void warn(const RestartContext& ctx, size_t process, const SocketRecord& r, const std::string& what) const {
    std::fprintf(stderr, "ckpt_restart: warning: %s, %s\n", describe(ctx, process, r).c_str(), what.c_str());
  }

  // Keeps `fd` as socket `ino`'s transport descriptor, above the saved numbers.
  int keep(const RestartContext& ctx, size_t process, const SocketRecord& r, int fd) {
    if (fd < 0) fail(ctx, process, r, errno_text());
    int high = fcntl(fd, F_DUPFD_CLOEXEC, floor_);
    int err = errno;
    close(fd);
    if (high < 0) fail(ctx, process, r, std::string("no descriptor number free: ") + std::strerror(err));
    made_[r.ino] = high;
    return high;
  }

  static void set_options(int fd, const SocketRecord& r) {
    for (uint32_t i = 0; i < r.option_count; ++i) {
      const socket::SocketOption& o = r.options[i];
      // SO_PEEK_OFF: the application's, applied once the bytes are back.
      if (o.level == SOL_SOCKET && o.name == SO_PEEK_OFF) continue;
      setsockopt(fd, o.level, o.name, o.value, o.len);
    }
  }

  int fresh(const SocketRecord& r) const {
    int fd = ::socket(r.family, r.type | SOCK_CLOEXEC, r.family == AF_UNIX ? 0 : r.protocol);
    if (fd >= 0) set_options(fd, r);
    return fd;
  }

  // bind(), after removing a UNIX socket file that nothing listens on any
  // more (the killed process's): only a socket, never another kind of file.
  static int bind_again(int fd, const SocketRecord& r) {
    auto* addr = reinterpret_cast<const sockaddr*>(r.local);
    if (bind(fd, addr, r.local_len) == 0) return 0;
    if (errno != EADDRINUSE || r.family != AF_UNIX) return -1;
    const char* path = reinterpret_cast<const sockaddr_un*>(r.local)->sun_path;
    struct stat st;
    if (path[0] == '\0' || lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
      errno = EADDRINUSE;
      return -1;
    }
    int probe = ::socket(AF_UNIX, r.type | SOCK_CLOEXEC, 0);
    bool alive = probe >= 0 && connect(probe, addr, r.local_len) == 0;
    if (probe >= 0) close(probe);
    if (alive) {
      errno = EADDRINUSE;
      return -1;
    }
    unlink(path);
    return bind(fd, addr, r.local_len);
  }

  // Two connected ends of r's kind: a socketpair, or a loopback TCP connection.
  static bool connected_pair(const SocketRecord& r, int ends[2]) {
    if (r.family == AF_UNIX) return socketpair(AF_UNIX, r.type | SOCK_CLOEXEC, 0, ends) == 0;
    sockaddr_storage addr{};
    socklen_t len;
    if (r.family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    }
    int listener = ::socket(r.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = listener >= 0 && bind(listener, reinterpret_cast<sockaddr*>(&addr), len) == 0 && listen(listener, 1) == 0 &&
              getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ends[0] = ok ? ::socket(r.family, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    ok = ok && ends[0] >= 0 && connect(ends[0], reinterpret_cast<sockaddr*>(&addr), len) == 0;
    ends[1] = ok ? accept4(listener, nullptr, nullptr, SOCK_CLOEXEC) : -1;
    int err = errno;
    if (listener >= 0) close(listener);
    if (ends[1] < 0) {
      if (ends[0] >= 0) close(ends[0]);
      errno = err;
      return false;
    }
    return true;
  }

  // Writes `bytes` into `fd` without blocking for long: the bytes were in
  // the kernel's buffers of this connection before, so they fit once the
  // buffers are as large as they were (`writer_rec` and `reader_rec` say how
  // large). Only then are the new buffers set (which stops the kernel from
  // sizing them itself), and grown beyond only as a last resort: buffers
  // larger than before would hold more the next time.
  static bool put_back(int fd, int reader, const uint8_t* p, size_t len, const SocketRecord& writer_rec,
                       const SocketRecord* reader_rec) {
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int stage = 0;
    for (int waits = 0; len > 0;) {
      ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
      if (n > 0) {
        p += n;
        len -= static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        pollfd pfd = {fd, POLLOUT, 0};
        if (poll(&pfd, 1, 20) > 0) continue;  // acknowledgements free room
        if (stage == 0) {
          ++stage;
          set_at_least(fd, SO_SNDBUF, writer_rec.sndbuf / 2);
          if (reader >= 0 && reader_rec) set_at_least(reader, SO_RCVBUF, reader_rec->rcvbuf / 2);
          continue;
        }
        // Then a quarter more at a time: buffers much larger than needed
        // would let more be in flight at the next checkpoint, and more
        // again after the next restart.
        if (stage >= 1 && stage <= 8 && writer_rec.sndbuf > 0) {
          set_at_least(fd, SO_SNDBUF, static_cast<int>(static_cast<int64_t>(writer_rec.sndbuf) / 2 * (4 + stage) / 4));
          ++stage;
          continue;
        }
        if (stage <= 9) {
          stage = 10;
          if (grow_send_buffer(fd) | (reader >= 0 && grow_receive_buffer(reader))) continue;
        }
        if (waits++ < 20 && poll(&pfd, 1, 100) >= 0) continue;
      }
      break;
    }
    fcntl(fd, F_SETFL, flags);
    return len == 0;
  }

  static void set_at_least(int fd, int which, int value) {
    int now = 0;
    socklen_t len = sizeof now;
    if (value <= 0 || getsockopt(fd, SOL_SOCKET, which, &now, &len) != 0 || now >= 2 * value) return;
    // As large as the kernel had sized it, past net.core.[rw]mem_max with
    // CAP_NET_ADMIN (an autotuned buffer outgrows them).
    const int force = which == SO_SNDBUF ? SO_SNDBUFFORCE : SO_RCVBUFFORCE;
    if (setsockopt(fd, SOL_SOCKET, force, &value, sizeof value) != 0) setsockopt(fd, SOL_SOCKET, which, &value, sizeof value);
  }

  const image::Section* bytes_in(uint64_t ino) const {
    auto it = in_.find(ino);
    return it == in_.end() ? nullptr : it->second;
  }
  const image::Section* bytes_out(uint64_t ino) const {
    auto it = out_.find(ino);
    return it == out_.end() ? nullptr : it->second;
  }

  // The stream bytes that belong in `reader`'s receive queue, written by `writer`.
  // `writer_rec`: the record of the end that writes (null: none saved, a closed connection's).
  void refill_stream(const RestartContext& ctx, size_t process, const SocketRecord& r, int writer, int reader,
                     const image::Section* s, const SocketRecord* writer_rec = nullptr) const {
    if (!s || s->data.empty()) return;
    if (r.type == SOCK_STREAM) {
      if (!put_back(writer, reader, s->data.data(), s->data.size(), writer_rec ? *writer_rec : r, &r))
        fail(ctx, process, r, "cannot put back the " + std::to_string(s->data.size()) + " bytes that were in flight");
      return;
    }
    // seqpacket (and datagram pairs): message by message
    for_each_datagram(ctx, process, r, s, [&](const DatagramHeader& h, const uint8_t*, const uint8_t* data) {
      if (!send_message(writer, data, h.len, nullptr, 0))
        fail(ctx, process, r, "cannot put back a message that was in flight: " + errno_text());
    });
  }

  // Sends one message without blocking. The kernel counts a queued message
  // against the sender's buffer with some overhead, which need not come out
  // the same as when it was first sent: a full buffer grows (as far as
  // net.core.wmem_max lets it) rather than fail.
  static bool send_message(int fd, const uint8_t* data, size_t len, const sockaddr* to, socklen_t to_len) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      ssize_t n = to ? sendto(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, to, to_len)
                     : send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(len)) return true;
      if (n >= 0 || errno != EAGAIN || !grow_send_buffer(fd)) return false;
    }
    return false;
  }

  static bool grow_receive_buffer(int fd) {
    int now = 0, big = 64 << 20, after = 0;
    socklen_t len = sizeof now;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &now, &len) != 0) return false;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    len = sizeof after;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &after, &len);
    if (after > now) return true;
    now /= 2;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &now, sizeof now);
    return false;
  }

  static bool grow_send_buffer(int fd) {
    int now = 0, big = 64 << 20;
    socklen_t len = sizeof now;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &now, &len) != 0) return false;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    int after = 0;
    len = sizeof after;
    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &after, &len);
    if (after > now) return true;
    now /= 2;  // the kernel reports twice what was asked
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &now, sizeof now);
    return false;
  }

  template <typename Each>
  void for_each_datagram(const RestartContext& ctx, size_t process, const SocketRecord& r, const image::Section* s,
                         Each each) const {
    const std::vector<uint8_t>& d = s->data;
    size_t at = 0;
    while (at < d.size()) {
      DatagramHeader h;
      if (d.size() - at < sizeof h) fail(ctx, process, r, "its saved messages are malformed");
      std::memcpy(&h, d.data() + at, sizeof h);
      at += sizeof h;
      if (h.addr_len > 128 || d.size() - at < uint64_t{h.addr_len} + h.len) fail(ctx, process, r, "its saved messages are malformed");
      each(h, d.data() + at, d.data() + at + h.addr_len);
      at += h.addr_len + h.len;
    }
  }

  void make(const RestartContext& ctx, size_t process, const SocketRecord& r) {
    auto state = static_cast<SocketState>(r.state);
    auto peer = static_cast<PeerKind>(r.peer_kind);
    if (state == SocketState::Listening) {
      int fd = fresh(r);
      if (fd < 0) fail(ctx, process, r, errno_text());
      // Connections the killed processes had accepted may linger in
      // TIME_WAIT on the port: SO_REUSEADDR lets the bind through them (the
      // application's own setting is put back right after).
      int reuse = 1, had = 0;  // `had`: the application's SO_REUSEADDR (set_options put it on)
      socklen_t had_len = sizeof had;
      getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &had, &had_len);
      if (r.family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
      int bound = bind_again(fd, r);
      if (r.family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &had, sizeof had);
      if (bound != 0 || listen(fd, r.backlog > 0 ? r.backlog : SOMAXCONN) != 0) {
        int err = errno;
        close(fd);
        std::string why = std::string("cannot listen at its address again: ") + std::strerror(err);
        if (err == EADDRINUSE && r.family != AF_UNIX && !had)
          why += " (without SO_REUSEADDR, connections the killed processes had closed keep the port for up to a "
                 "minute in TIME_WAIT: try again later)";
        fail(ctx, process, r, why);
      }
      keep(ctx, process, r, fd);
      return;
    }
    if (state != SocketState::Connected || r.type == SOCK_DGRAM) {
      int fd = fresh(r);
      if (fd < 0) fail(ctx, process, r, errno_text());
      if (state != SocketState::Unbound && r.local_len > sizeof(sa_family_t) && bind_again(fd, r) != 0) {
        // An address the kernel chose (a UDP client's port) may be taken now: another one will do.
        int err = errno;
        if (r.family == AF_UNIX) {
          close(fd);
          fail(ctx, process, r, std::string("cannot bind it again: ") + std::strerror(err));
        }
      }
      if (state == SocketState::Connected && is_datagram_pair(r)) {
        close(fd);
        make_pair(ctx, process, r);
        return;
      }
      if (state == SocketState::Connected && r.peer_len > sizeof(sa_family_t) &&
          connect(fd, reinterpret_cast<const sockaddr*>(r.peer), r.peer_len) != 0)
        warn(ctx, process, r, "cannot be connected again (" + errno_text() + "): it is not connected");
      keep(ctx, process, r, fd);
      return;
    }
    // A connected stream or seqpacket socket.
    if (peer == PeerKind::Remote) return;  // the restored process connects it (socket_remote.h)
    if (peer == PeerKind::Inside && by_ino_.count(r.peer_ino)) return make_pair(ctx, process, r);
    if (peer == PeerKind::Pending) {
      int fd = fresh(r);
      if (fd >= 0 && connect(fd, reinterpret_cast<const sockaddr*>(r.peer), r.peer_len) == 0) {
        keep(ctx, process, r, fd);
        return;
      }
      warn(ctx, process, r, "could not connect to its listener again (" + errno_text() + "): it is closed");
      if (fd >= 0) close(fd);
    } else if (peer == PeerKind::Outside || peer == PeerKind::Inside) {
      warn(ctx, process, r,
           "whose peer is outside the computation, is closed: its reads see end-of-file, its writes fail");
    }
    // Closed: the bytes still queued, then end-of-file.
    int ends[2];
    if (!connected_pair(r, ends)) fail(ctx, process, r, "cannot create a closed connection: " + errno_text());
    set_options(ends[0], r);
    refill_stream(ctx, process, r, ends[1], ends[0], bytes_in(r.ino));
    close(ends[1]);
    keep(ctx, process, r, ends[0]);
  }

  // Two unnamed UNIX datagram sockets connected to each other (socketpair).
  bool is_datagram_pair(const SocketRecord& r) const {
    if (r.family != AF_UNIX || static_cast<PeerKind>(r.peer_kind) != PeerKind::Inside || r.local_len > sizeof(sa_family_t))
      return false;
    auto it = by_ino_.find(r.peer_ino);
    return it != by_ino_.end() && it->second.second->peer_ino == r.ino;
  }

  void make_pair(const RestartContext& ctx, size_t process, const SocketRecord& r) {
    auto [peer_process, peer] = by_ino_.at(r.peer_ino);
    int ends[2];
    if (!connected_pair(r, ends)) fail(ctx, process, r, "cannot connect it again: " + errno_text());
    set_options(ends[0], r);
    set_options(ends[1], *peer);
    // Each end's receive queue, through the other end; each end's unread
    // output, through itself (only one of the two exists per direction).
    refill_stream(ctx, process, r, ends[1], ends[0], bytes_in(r.ino), peer);
    refill_stream(ctx, peer_process, *peer, ends[0], ends[1], bytes_in(peer->ino), &r);
    if (const image::Section* s = bytes_out(r.ino);
        s && !put_back(ends[0], ends[1], s->data.data(), s->data.size(), r, peer))
      fail(ctx, process, r, "cannot put back the bytes that were in flight");
    if (const image::Section* s = bytes_out(peer->ino);
        s && !put_back(ends[1], ends[0], s->data.data(), s->data.size(), *peer, &r))
      fail(ctx, peer_process, *peer, "cannot put back the bytes that were in flight");
    keep(ctx, process, r, ends[0]);
    keep(ctx, peer_process, *peer, ends[1]);
  }

  // The datagrams queued at a datagram socket, sent to it again: from the
  // pair's other end, or the sender's new socket, or (a sender outside the
  // computation) an unnamed socket of ours.
  void refill_datagrams(const RestartContext& ctx, size_t process, const SocketRecord& r) {
    // A pair's datagrams went back when the pair was made (make_pair).
    if (r.type != SOCK_DGRAM || is_datagram_pair(r)) return;
    const image::Section* s = bytes_in(r.ino);
    auto mine = made_.find(r.ino);
    if (!s || s->data.empty() || mine == made_.end()) return;
    sockaddr_storage to{};
    socklen_t to_len = sizeof to;
    if (getsockname(mine->second, reinterpret_cast<sockaddr*>(&to), &to_len) != 0) return;
    if (r.family == AF_INET && reinterpret_cast<sockaddr_in*>(&to)->sin_addr.s_addr == htonl(INADDR_ANY))
      reinterpret_cast<sockaddr_in*>(&to)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (r.family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<sockaddr_in6*>(&to)->sin6_addr))
      reinterpret_cast<sockaddr_in6*>(&to)->sin6_addr = in6addr_loopback;
    int spare = -1;
    for_each_datagram(ctx, process, r, s, [&](const DatagramHeader& h, const uint8_t* from, const uint8_t* data) {
      int sender = sender_for(r, from, h.addr_len);
      if (sender < 0) {
        if (spare < 0) spare = ::socket(r.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sender = spare;
      }
      if (!send_message(sender, data, h.len, reinterpret_cast<sockaddr*>(&to), to_len))
        fail(ctx, process, r, "cannot send a datagram that was queued to it again: " + errno_text());
    });
    if (spare >= 0) close(spare);
  }

  // The new socket of the computation's that had address `from`, if any.
  int sender_for(const SocketRecord& r, const uint8_t* from, uint32_t len) const {
    if (len <= sizeof(sa_family_t)) return -1;
    for (const auto& [ino, where] : by_ino_) {
      const SocketRecord& s = *where.second;
      if (s.family == r.family && s.type == r.type && s.local_len == len && std::memcmp(s.local, from, len) == 0) {
        auto it = made_.find(ino);
        if (it != made_.end()) return it->second;
      }
    }
    return -1;
  }

  // Shutdown state and status flags, once the bytes are back.
  void finish_socket(const SocketRecord& r) {
    auto it = made_.find(r.ino);
    if (it == made_.end()) return;
    int fd = it->second;
    if (static_cast<SocketState>(r.state) == SocketState::Connected) {
      if ((r.shutdown & socket::kShutRead) && (r.shutdown & socket::kShutWrite)) {
        if (static_cast<PeerKind>(r.peer_kind) == PeerKind::Inside) shutdown(fd, SHUT_RDWR);
      } else if (r.shutdown & socket::kShutWrite) {
        shutdown(fd, SHUT_WR);
      } else if (r.shutdown & socket::kShutRead) {
        shutdown(fd, SHUT_RD);
      }
    }
    for (uint32_t i = 0; i < r.option_count; ++i)
      if (r.options[i].level == SOL_SOCKET && r.options[i].name == SO_PEEK_OFF)
        setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, r.options[i].value, r.options[i].len);
    fcntl(fd, F_SETFL, r.status_flags & (O_NONBLOCK | O_ASYNC));
  }

  void close_all() {
    for (auto& [ino, fd] : made_) close(fd);
    made_.clear();
  }

  std::vector<ProcessSockets> processes_;
  std::map<uint64_t, std::pair<size_t, const SocketRecord*>> by_ino_;  // one record per socket
  std::map<uint64_t, const image::Section*> in_, out_;
  std::map<uint64_t, int> made_;  // socket ino -> transport descriptor
  int floor_ = 3;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::SocketRestart)
