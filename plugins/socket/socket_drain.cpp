#include "socket_drain.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "socket_remote.h"

namespace ckpt::socket {
namespace {

constexpr size_t kMarkerLen = 32;
constexpr long kExchangeTimeoutMs = 10000;
constexpr long kRefillTimeoutMs = 10000;
// Room for one datagram: no UNIX datagram is larger than a send buffer.
constexpr size_t kMaxDatagram = 8 * 1024 * 1024;

// One TCP connection's exchange (socket_checkpoint.h). Each end writes its
// marker; reads until the other end's marker (what it read is what the other
// end had sent and it had not read: "taken"); writes back the length of
// "taken" and "taken" itself; and reads the same from the other end, which is
// what it had sent itself and the other end had not read ("returned"). Then
// both directions are empty, and each end holds its own unread bytes.
struct Exchange {
  int fd;
  uint32_t record;  // index in the section
  uint64_t ino;
  uint8_t marker_out[kMarkerLen];
  uint8_t marker_in[kMarkerLen];
  MappedBuffer in;          // everything read: taken, the marker, the length, returned
  size_t marker_at;         // offset of the other end's marker in `in`; kNone until found
  size_t sent;              // bytes of (marker, length, taken) written so far
  uint64_t taken_len;       // = marker_at once found
  bool read_done;
  bool failed;
  bool refilled;
  bool remote;  // the other end is on another host (socket_remote.h)
  uint16_t reserved;

  static constexpr size_t kNone = ~size_t{0};
  size_t returned_at() const { return marker_at + kMarkerLen + sizeof(uint64_t); }
  bool have_length() const { return marker_at != kNone && in.size() >= returned_at(); }
  uint64_t returned_len() const {
    uint64_t len;
    memcpy(&len, in.data() + marker_at + kMarkerLen, sizeof len);
    return len;
  }
  size_t to_send() const { return kMarkerLen + (marker_at == kNone ? 0 : sizeof(uint64_t) + taken_len); }
  bool write_done() const { return marker_at != kNone && sent == to_send(); }
};

MappedArray<Exchange> g_exchanges;
MappedBuffer g_scratch;

// A marker no application writes by chance: 32 bytes mixed from the
// connection's two ends (not a constant that could sit in some file a
// program sends).
void make_marker(uint64_t from, uint64_t to, uint8_t out[kMarkerLen]) {
  uint64_t x = from * 0x9e3779b97f4a7c15ull ^ (to + 0x63706b74ull) * 0xbf58476d1ce4e5b9ull;
  for (size_t i = 0; i < kMarkerLen; i += 8) {
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    memcpy(out + i, &z, 8);
  }
}

long now_ms() {
  timespec ts;
  raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts));
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ShortText section_name(const char* prefix, uint64_t ino) {
  ShortText t;
  t.add(prefix).dec(static_cast<long>(ino));
  return t;
}

long getsockopt_int(int fd, int level, int name, int* v) {
  socklen_t len = sizeof *v;
  return raw_syscall(SYS_getsockopt, fd, level, name, reinterpret_cast<long>(v), reinterpret_cast<long>(&len));
}

long setsockopt_int(int fd, int level, int name, int v) {
  return raw_syscall(SYS_setsockopt, fd, level, name, reinterpret_cast<long>(&v), sizeof v);
}

// Closes descriptors a peek received (SCM_RIGHTS) and says whether there were any.
bool close_passed_fds(msghdr& msg) {
  bool any = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    any = true;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      raw_syscall(SYS_close, fd);
    }
  }
  return any;
}

// Copies the receive queue of `r` into g_scratch without taking it out.
const char* peek_queue(const SocketRecord& r, uint32_t* datagrams) {
  bool stream = r.type == SOCK_STREAM;
  int old_off = -1;
  getsockopt_int(r.fd, SOL_SOCKET, SO_PEEK_OFF, &old_off);
  bool offsets = setsockopt_int(r.fd, SOL_SOCKET, SO_PEEK_OFF, 0) == 0;
  int inq = 0;
  raw_syscall(SYS_ioctl, r.fd, FIONREAD, reinterpret_cast<long>(&inq));
  const char* why = nullptr;
  *datagrams = 0;
  for (int round = 0; round < 1 << 20; ++round) {
    if (stream && g_scratch.size() >= static_cast<size_t>(inq)) break;
    size_t room = stream ? (static_cast<size_t>(inq) - g_scratch.size()) : kMaxDatagram;
    size_t head = stream ? 0 : sizeof(DatagramHeader) + 128;
    char* dst = g_scratch.grow_for(head + room);
    if (!dst) {
      why = "out of memory for the bytes in flight";
      break;
    }
    alignas(cmsghdr) char control[1024];
    iovec iov = {dst + head, room};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (!stream) {
      msg.msg_name = dst + sizeof(DatagramHeader);
      msg.msg_namelen = 128;
    }
    long n = raw_syscall(SYS_recvmsg, r.fd, reinterpret_cast<long>(&msg), MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
    if (n == -EINTR) continue;
    if (n == -EAGAIN || (stream && n == 0)) break;
    if (n < 0) {
      why = "cannot read the bytes in flight";
      break;
    }
    if (close_passed_fds(msg) || (msg.msg_flags & MSG_CTRUNC)) {
      why = "has descriptors in flight (SCM_RIGHTS), which ckpt cannot checkpoint";
      break;
    }
    if (!stream && static_cast<size_t>(n) > room) {
      why = "holds a datagram too large to save";
      break;
    }
    if (stream) {
      g_scratch.commit(static_cast<size_t>(n));
    } else {
      DatagramHeader h = {static_cast<uint32_t>(n), msg.msg_namelen};
      memcpy(dst, &h, sizeof h);
      // Packed: header, address, data.
      memmove(dst + sizeof h + h.addr_len, dst + head, static_cast<size_t>(n));
      g_scratch.commit(sizeof h + h.addr_len + static_cast<size_t>(n));
      ++*datagrams;
    }
    if (!offsets) break;  // without peek offsets only one read is possible
  }
  if (offsets) setsockopt_int(r.fd, SOL_SOCKET, SO_PEEK_OFF, old_off);
  if (!why && !offsets && stream && g_scratch.size() < static_cast<size_t>(inq))
    why = "cannot copy the bytes in flight (no SO_PEEK_OFF)";
  return why;
}

bool tcp_exchange_applies(const SocketRecord& r) {
  return (r.family == AF_INET || r.family == AF_INET6) && r.type == SOCK_STREAM &&
         static_cast<SocketState>(r.state) == SocketState::Connected &&
         (static_cast<PeerKind>(r.peer_kind) == PeerKind::Inside || static_cast<PeerKind>(r.peer_kind) == PeerKind::Remote) &&
         r.shutdown == 0 && r.peer_shutdown == 0;
}

// Moves one exchange on as far as it goes without blocking. Returns whether
// anything moved; sets failed on a broken connection.
bool step(Exchange& e) {
  bool moved = false;
  // Writes: the marker at once; the length and `taken` once the marker came.
  while (e.sent < e.to_send()) {
    const char* src;
    size_t len;
    uint64_t taken = e.taken_len;
    if (e.sent < kMarkerLen) {
      src = reinterpret_cast<const char*>(e.marker_out) + e.sent;
      len = kMarkerLen - e.sent;
    } else if (e.sent < kMarkerLen + sizeof taken) {
      src = reinterpret_cast<const char*>(&taken) + (e.sent - kMarkerLen);
      len = kMarkerLen + sizeof taken - e.sent;
    } else {
      size_t off = e.sent - kMarkerLen - sizeof taken;
      src = e.in.data() + off;
      len = e.taken_len - off;
    }
    long n = raw_syscall(SYS_sendto, e.fd, reinterpret_cast<long>(src), len, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
    if (n == -EINTR) continue;
    if (n == -EAGAIN) break;
    if (n <= 0) {
      e.failed = true;
      return true;
    }
    e.sent += static_cast<size_t>(n);
    moved = true;
  }
  // Reads, until the other end's length and `returned` are in.
  while (!e.read_done) {
    constexpr size_t kChunk = 256 * 1024;
    char* dst = e.in.grow_for(kChunk);
    if (!dst) {
      e.failed = true;
      return true;
    }
    long n = raw_syscall(SYS_recvfrom, e.fd, reinterpret_cast<long>(dst), kChunk, MSG_DONTWAIT, 0, 0);
    if (n == -EINTR) continue;
    if (n == -EAGAIN) break;
    if (n <= 0) {
      e.failed = true;
      return true;
    }
    size_t before = e.in.size();
    e.in.commit(static_cast<size_t>(n));
    moved = true;
    if (e.marker_at == Exchange::kNone) {
      size_t from = before >= kMarkerLen ? before - (kMarkerLen - 1) : 0;
      for (size_t i = from; i + kMarkerLen <= e.in.size(); ++i)
        if (memcmp(e.in.data() + i, e.marker_in, kMarkerLen) == 0) {
          e.marker_at = i;
          e.taken_len = i;
          break;
        }
    }
    if (e.have_length() && e.in.size() >= e.returned_at() + e.returned_len()) e.read_done = true;
  }
  return moved;
}

}  // namespace

const char* save_queues(SocketRecord& r) {
  auto state = static_cast<SocketState>(r.state);
  if (state == SocketState::Listening || state == SocketState::Unbound) return nullptr;
  if (tcp_exchange_applies(r)) {
    Exchange e = {};
    e.fd = r.fd;
    e.ino = r.ino;
    e.marker_at = Exchange::kNone;
    e.remote = static_cast<PeerKind>(r.peer_kind) == PeerKind::Remote;
    // From the connection's addresses, which both ends know (wherever they run).
    Endpoint local = endpoint_of(r.local, r.local_len), peer = endpoint_of(r.peer, r.peer_len);
    make_marker(connection_key(local, peer), connection_key(peer, local), e.marker_out);
    make_marker(connection_key(peer, local), connection_key(local, peer), e.marker_in);
    if (!g_exchanges.push(e)) return "out of memory for the connections to drain";
    return nullptr;
  }
  g_scratch.clear();
  uint32_t datagrams = 0;
  const char* why = peek_queue(r, &datagrams);
  if (!why && g_scratch.size() > 0) {
    ShortText name = section_name(kInBytesPrefix, r.ino);
    if (ckpt_save_section(name.c_str(), g_scratch.data(), g_scratch.size()) != 0) why = "no room in the image for the bytes in flight";
    r.has_in = 1;
    r.in_count = datagrams;
  }
  g_scratch.release();
  return why;
}

const char* run_exchanges(SocketRecord* records, uint32_t count, char* why, size_t why_cap) {
  size_t n = g_exchanges.size();
  if (n == 0) return nullptr;
  for (size_t i = 0; i < n; ++i)
    for (uint32_t k = 0; k < count; ++k)
      if (records[k].ino == g_exchanges[i].ino && records[k].leader) g_exchanges[i].record = k;
  MappedArray<pollfd> polls;
  long deadline = now_ms() + kExchangeTimeoutMs;
  const char* failure = nullptr;
  for (;;) {
    bool moved = false, all_done = true;
    for (size_t i = 0; i < n; ++i) {
      Exchange& e = g_exchanges[i];
      if (e.failed || (e.read_done && e.write_done())) continue;
      moved |= step(e);
      if (e.failed) {
        failure = "its connection broke while ckpt drained it";
        records[e.record].has_out = 0;
        ShortText t;
        t.add("fd ").dec(e.fd).add(", a TCP connection inside the computation, ");
        MessageText(why, why_cap).add(t.c_str()).add(failure);
        polls.release();
        return why;
      }
      if (!(e.read_done && e.write_done())) all_done = false;
    }
    if (all_done) break;
    if (moved) continue;
    long left = deadline - now_ms();
    if (left <= 0) {
      for (size_t i = 0; i < n; ++i) {
        Exchange& e = g_exchanges[i];
        if (e.read_done && e.write_done()) continue;
        ShortText t;
        t.add("fd ").dec(e.fd).add(", a TCP connection inside the computation, ");
        MessageText(why, why_cap).add(t.c_str()).add("was not drained within 10 s (its other end did not answer)");
        break;
      }
      polls.release();
      return why;
    }
    polls.clear();
    for (size_t i = 0; i < n; ++i) {
      Exchange& e = g_exchanges[i];
      if (e.failed || (e.read_done && e.write_done())) continue;
      short events = static_cast<short>((e.read_done ? 0 : POLLIN) | (e.sent < e.to_send() ? POLLOUT : 0));
      if (!polls.push({e.fd, events, 0})) break;
    }
    raw_syscall(SYS_poll, reinterpret_cast<long>(polls.data()), static_cast<long>(polls.size()), left);
  }
  polls.release();
  for (size_t i = 0; i < n; ++i) {
    Exchange& e = g_exchanges[i];
    uint64_t len = e.returned_len();
    // The other end writes `taken` again at RESUME, before this end reads.
    // Across hosts the kernel may have packed it denser than fresh writes
    // fill a buffer; on this host the buffers are as they were (making
    // them larger would let more be in flight at every checkpoint).
    if (e.remote) make_room(e.fd, SO_RCVBUF, e.taken_len);
    if (static_cast<PeerKind>(records[e.record].peer_kind) == PeerKind::Remote &&
        !keep_remote_bytes(e.ino, e.in.data() + e.returned_at(), len, e.taken_len)) {
      MessageText(why, why_cap).add("out of memory for the bytes in flight to another host");
      return why;
    }
    if (len == 0) continue;
    ShortText name = section_name(kOutBytesPrefix, e.ino);
    if (ckpt_save_section(name.c_str(), e.in.data() + e.returned_at(), len) != 0) {
      MessageText(why, why_cap).add("no room in the image for the bytes in flight in a TCP connection");
      return why;
    }
    records[e.record].has_out = 1;
  }
  return nullptr;
}

namespace {

// Sets `fd`'s send buffer to `size` bytes as getsockopt reports them (the
// kernel counts twice what it is asked for): past net.core.wmem_max with
// CAP_NET_ADMIN (SO_SNDBUFFORCE), else up to it. A buffer that would not
// grow is left as it is: an autotuned one may be larger than wmem_max lets
// anyone without CAP_NET_ADMIN set. Says whether it set the buffer.
bool resize_send_buffer(int fd, uint64_t size) {
  const int half = static_cast<int>((size < (1u << 30) ? size : (1u << 30)) / 2);
  if (setsockopt_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, half) == 0) return true;
  char text[32];
  if (read_small_file("/proc/sys/net/core/wmem_max", text, sizeof text) <= 0) return false;
  long max = 0;
  for (const char* c = text; *c >= '0' && *c <= '9' && max < (1l << 30); ++c) max = max * 10 + (*c - '0');
  const int asked = half < max ? half : static_cast<int>(max);
  int now = 0;
  if (getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, &now) != 0) return false;
  if (static_cast<uint64_t>(now) < size && 2l * asked <= now) return false;
  return setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, asked) == 0;
}

// Queues what it can of `len` bytes in `fd`'s send buffer, growing the
// buffer for what does not fit (then setting it to `size_after`, or back to
// its size if 0), and returns how many it queued.
size_t queue_without_waiting(int fd, const char* p, size_t len, int size_after) {
  constexpr int kMaxGrowths = 3;
  size_t done = 0;
  int before = 0;  // the buffer's size, once this grew it
  for (int growths = 0; done < len;) {
    long n = raw_syscall(SYS_sendto, fd, reinterpret_cast<long>(p + done), len - done, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
    if (n == -EINTR) continue;
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    int now = 0;
    if (n != -EAGAIN || growths == kMaxGrowths || getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, &now) != 0) break;
    // Room for the rest, counted twice for the kernel's overhead per
    // packet, and twice more at each try.
    if (!resize_send_buffer(fd, static_cast<uint64_t>(now) + (static_cast<uint64_t>(len - done) << (growths + 1)))) break;
    if (growths++ == 0) before = now;
  }
  // Its size again: the queue may stay above it until the peer reads (the
  // application's next writes wait meanwhile, as on any full buffer), but
  // the next checkpoint finds no more in flight than the application had.
  if (before) resize_send_buffer(fd, static_cast<uint64_t>(size_after > 0 ? size_after : before));
  return done;
}

}  // namespace

bool put_back_in_flight(int fd, const char* p, size_t len, long timeout_ms, int size_after) {
  size_t done = queue_without_waiting(fd, p, len, size_after);
  // The buffer could not grow (net.core.wmem_max, without CAP_NET_ADMIN):
  // the rest waits for the peer to read, for a while.
  const long deadline = now_ms() + timeout_ms;
  while (done < len) {
    long n = raw_syscall(SYS_sendto, fd, reinterpret_cast<long>(p + done), len - done, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
    if (n == -EINTR) continue;
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    const long left = deadline - now_ms();
    if (n != -EAGAIN || left <= 0) break;
    pollfd pfd = {fd, POLLOUT, 0};
    raw_syscall(SYS_poll, reinterpret_cast<long>(&pfd), 1, left);
  }
  if (done == len) return true;
  // Better a broken connection than a stream with a hole in it.
  raw_syscall(SYS_shutdown, fd, SHUT_RDWR);
  return false;
}

void refill_exchanged() {
  // Every end writes again what it had sent and the other end had not read.
  // Those bytes were in the two ends' buffers a moment ago, but written
  // anew they need not fit there again (the kernel may have packed them
  // denser than fresh writes fill a buffer, or narrowed the window since),
  // and no end may wait here for its peer to read: the peer's threads run
  // only once its own refill is done, and with both directions full each
  // end would wait for the other (seen under load: a 10 s stall, then bytes
  // lost). So the send buffer takes what the connection does not.
  for (size_t i = 0; i < g_exchanges.size(); ++i) {
    Exchange& e = g_exchanges[i];
    if (!e.read_done || !e.write_done()) {
      if (e.taken_len || e.in.size()) {
        ShortText t;
        t.add("fd ").dec(e.fd).add(": a TCP connection whose drain failed may have lost bytes in flight");
        ckpt_log_warning(t.c_str());
      }
      continue;
    }
    if (!put_back_in_flight(e.fd, e.in.data() + e.returned_at(), e.returned_len(), kRefillTimeoutMs, 0)) {
      ShortText t;
      t.add("fd ").dec(e.fd).add(": could not put back ").dec(static_cast<long>(e.returned_len()));
      char line[320];
      MessageText(line, sizeof line)
          .add(t.c_str())
          .add(" bytes in flight of a TCP connection (its send buffer could not grow past net.core.wmem_max and the "
               "other end did not read them, or the connection broke): it is shut down");
      ckpt_log_warning(line);
    }
  }
  forget_exchanged();
}

void forget_exchanged() {
  for (size_t i = 0; i < g_exchanges.size(); ++i) g_exchanges[i].in.release();
  g_exchanges.release();
  g_scratch.release();
}

}  // namespace ckpt::socket
