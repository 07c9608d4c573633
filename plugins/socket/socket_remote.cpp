#include "socket_remote.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "socket_drain.h"

namespace ckpt::socket {
namespace {

constexpr char kConnectionsName[] = "socket.tcp";    // SharedConnection, one per connection
constexpr char kListenersName[] = "socket.listen";  // SharedListener, one per remote connection after a restart
constexpr long kReconnectTimeoutMs = 10000;

struct SharedConnection {
  Endpoint local, peer;
  uint32_t shutdown;
  uint32_t reserved;
};

struct SharedListener {
  Endpoint listener_was, connector_was;  // the connection's ends before the restart
  Endpoint now;                          // where the listener waits
};

struct RemoteSocket {
  SocketRecord rec;
  size_t bytes_at, bytes_len;  // in g_bytes: what it had sent and the other end had not read
  uint64_t incoming;           // what the other end had sent and this one had not read (it sends it again)
  int listener;                // after a restart, at the listening end
  int fresh;                   // the new connection, until it is at rec.fd
};

MappedArray<RemoteSocket> g_remote;
MappedBuffer g_bytes;

bool is_loopback(const Endpoint& e) {
  static const uint8_t v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  bool mapped = e.addr[10] == 0xff && e.addr[11] == 0xff &&
                memcmp(e.addr, "\0\0\0\0\0\0\0\0\0\0", 10) == 0;
  return memcmp(e.addr, v6_loopback, 16) == 0 || (mapped && e.addr[12] == 127);
}

long now_ms() {
  timespec ts;
  raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts));
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// A sockaddr of `family` for endpoint `e`; its length, 0 if it has none.
uint32_t sockaddr_for(int family, const Endpoint& e, sockaddr_storage& out) {
  memset(&out, 0, sizeof out);
  bool mapped = e.addr[10] == 0xff && e.addr[11] == 0xff && memcmp(e.addr, "\0\0\0\0\0\0\0\0\0\0", 10) == 0;
  if (family == AF_INET) {
    if (!mapped) return 0;
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    a->sin_port = htons(e.port);
    memcpy(&a->sin_addr, e.addr + 12, 4);
    return sizeof *a;
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&out);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(e.port);
  memcpy(&a->sin6_addr, e.addr, 16);
  return sizeof *a;
}

void warn(const SocketRecord& r, const char* what) {
  ShortText t;
  t.add("fd ").dec(r.fd).add(", a TCP connection to another host, ");
  char line[300];
  MessageText(line, sizeof line).add(t.c_str()).add(what);
  ckpt_log_warning(line);
}

// What stands for a connection that could not be made again: one whose
// other end is closed (reads see end-of-file, writes fail with EPIPE).
int closed_placeholder() {
  int pair[2];
  if (raw_syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, reinterpret_cast<long>(pair)) < 0) return -1;
  raw_syscall(SYS_close, pair[1]);
  return pair[0];
}

void set_options(int fd, const SocketRecord& r) {
  for (uint32_t i = 0; i < r.option_count; ++i) {
    const SocketOption& o = r.options[i];
    if (o.level == SOL_SOCKET && o.name == SO_PEEK_OFF) continue;
    raw_syscall(SYS_setsockopt, fd, o.level, o.name, reinterpret_cast<long>(o.value), o.len);
  }
}

bool wait_for(int fd, short events, long deadline) {
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0) return false;
    pollfd p = {fd, events, 0};
    long n = raw_syscall(SYS_poll, reinterpret_cast<long>(&p), 1, left);
    if (n > 0) return true;
    if (n < 0 && n != -EINTR) return false;
  }
}

// The connecting end: connects to where the listening end shared it waits.
int connect_again(RemoteSocket& s, long deadline) {
  struct Find {
    Endpoint mine, theirs;
    SharedListener found;
    bool ok;
  } find = {endpoint_of(s.rec.local, s.rec.local_len), endpoint_of(s.rec.peer, s.rec.peer_len), {}, false};
  ckpt_for_each_shared(
      kListenersName,
      [](const void* data, size_t len, void* arg) {
        auto& f = *static_cast<Find*>(arg);
        if (len != sizeof(SharedListener)) return 0;
        SharedListener l;
        memcpy(&l, data, sizeof l);
        if (!same_endpoint(l.listener_was, f.theirs) || !same_endpoint(l.connector_was, f.mine)) return 0;
        f.found = l;
        f.ok = true;
        return 1;
      },
      &find);
  if (!find.ok) {
    warn(s.rec, "was not restarted with this one (nobody shared where it listens): it is closed");
    return -1;
  }
  sockaddr_storage to;
  uint32_t to_len = sockaddr_for(s.rec.family, find.found.now, to);
  long fd = raw_syscall(SYS_socket, s.rec.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || to_len == 0) {
    if (fd >= 0) raw_syscall(SYS_close, fd);
    warn(s.rec, "cannot be made again (no address of its family to connect to): it is closed");
    return -1;
  }
  set_options(static_cast<int>(fd), s.rec);
  long rc = raw_syscall(SYS_connect, fd, reinterpret_cast<long>(&to), to_len);
  if (rc == -EINPROGRESS && wait_for(static_cast<int>(fd), POLLOUT, deadline)) {
    int err = 0;
    socklen_t len = sizeof err;
    raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<long>(&err), reinterpret_cast<long>(&len));
    rc = -err;
  }
  if (rc != 0) {
    raw_syscall(SYS_close, fd);
    warn(s.rec, "could not connect to its other end again: it is closed");
    return -1;
  }
  return static_cast<int>(fd);
}

int accept_again(RemoteSocket& s, long deadline) {
  int fd = -1;
  if (wait_for(s.listener, POLLIN, deadline))
    fd = static_cast<int>(raw_syscall(SYS_accept4, s.listener, 0, 0, SOCK_CLOEXEC));
  raw_syscall(SYS_close, s.listener);
  s.listener = -1;
  if (fd < 0) {
    warn(s.rec, "was not connected to again by its other end: it is closed");
    return -1;
  }
  set_options(fd, s.rec);
  return fd;
}

bool listens(const RemoteSocket& s) {
  Endpoint mine = endpoint_of(s.rec.local, s.rec.local_len), theirs = endpoint_of(s.rec.peer, s.rec.peer_len);
  return memcmp(&mine, &theirs, sizeof mine) < 0;
}

}  // namespace

// A buffer of `fd` at least `bytes` large (as far as net.core.[rw]mem_max lets it).
void make_room(int fd, int which, uint64_t bytes) {
  int now = 0;
  socklen_t len = sizeof now;
  if (bytes == 0 || raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, which, reinterpret_cast<long>(&now), reinterpret_cast<long>(&len)) != 0 ||
      static_cast<uint64_t>(now) >= 2 * bytes)
    return;
  int want = bytes > (1u << 30) ? (1 << 30) : static_cast<int>(bytes);
  raw_syscall(SYS_setsockopt, fd, SOL_SOCKET, which, reinterpret_cast<long>(&want), sizeof want);
}

Endpoint endpoint_of(const uint8_t* addr, uint32_t len) {
  Endpoint e = {};
  sockaddr_storage sa = {};
  memcpy(&sa, addr, len < sizeof sa ? len : sizeof sa);
  if (sa.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&sa);
    e.addr[10] = e.addr[11] = 0xff;
    memcpy(e.addr + 12, &a->sin_addr, 4);
    e.port = ntohs(a->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&sa);
    memcpy(e.addr, &a->sin6_addr, 16);
    e.port = ntohs(a->sin6_port);
  }
  return e;
}

bool same_endpoint(const Endpoint& a, const Endpoint& b) { return a.port == b.port && memcmp(a.addr, b.addr, 16) == 0; }

uint64_t connection_key(const Endpoint& local, const Endpoint& peer) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](const Endpoint& e) {
    for (uint8_t b : e.addr) h = (h ^ b) * 0x100000001b3ull;
    h = (h ^ (e.port & 0xff)) * 0x100000001b3ull;
    h = (h ^ (e.port >> 8)) * 0x100000001b3ull;
  };
  mix(local);
  mix(peer);
  return h;
}

void share_connections() {
  MappedArray<int> fds;
  long n = list_fds(0, fds);
  for (long i = 0; i < n; ++i) {
    int fd = fds[i];
    if (!ckpt_fd_claimed(fd)) continue;
    int type = 0, family = 0;
    socklen_t len = sizeof type;
    if (raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, reinterpret_cast<long>(&type), reinterpret_cast<long>(&len)) != 0 ||
        type != SOCK_STREAM)
      continue;
    len = sizeof family;
    raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, reinterpret_cast<long>(&family), reinterpret_cast<long>(&len));
    if (family != AF_INET && family != AF_INET6) continue;
    sockaddr_storage local, peer;
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (raw_syscall(SYS_getsockname, fd, reinterpret_cast<long>(&local), reinterpret_cast<long>(&local_len)) != 0 ||
        raw_syscall(SYS_getpeername, fd, reinterpret_cast<long>(&peer), reinterpret_cast<long>(&peer_len)) != 0)
      continue;
    SharedConnection c = {};
    c.local = endpoint_of(reinterpret_cast<uint8_t*>(&local), local_len);
    c.peer = endpoint_of(reinterpret_cast<uint8_t*>(&peer), peer_len);
    if (ckpt_share(kConnectionsName, &c, sizeof c) != 0) {
      ckpt_fail_checkpoint("too many TCP connections to share with the other hosts");
      break;
    }
  }
  fds.release();
}

bool peer_shared(const SocketRecord& r, uint32_t* peer_shutdown) {
  struct Find {
    Endpoint local, peer;
    uint32_t shutdown;
    bool found;
  } f = {endpoint_of(r.local, r.local_len), endpoint_of(r.peer, r.peer_len), 0, false};
  ckpt_for_each_shared(
      kConnectionsName,
      [](const void* data, size_t len, void* arg) {
        auto& f = *static_cast<Find*>(arg);
        if (len != sizeof(SharedConnection)) return 0;
        SharedConnection c;
        memcpy(&c, data, sizeof c);
        if (!same_endpoint(c.local, f.peer) || !same_endpoint(c.peer, f.local)) return 0;
        f.shutdown = c.shutdown;
        f.found = true;
        return 1;
      },
      &f);
  *peer_shutdown = f.shutdown;
  return f.found;
}

bool peer_is_loopback(const SocketRecord& r) { return is_loopback(endpoint_of(r.peer, r.peer_len)); }

void forget_remote() {
  g_remote.release();
  g_bytes.release();
}

bool keep_remote(const SocketRecord& r) {
  RemoteSocket s = {};
  s.rec = r;
  s.listener = s.fresh = -1;
  return g_remote.push(s);
}

bool keep_remote_bytes(uint64_t ino, const char* data, size_t len, uint64_t incoming) {
  for (size_t i = 0; i < g_remote.size(); ++i) {
    if (g_remote[i].rec.ino != ino) continue;
    g_remote[i].incoming = incoming;
    size_t at = g_bytes.append(data, len);
    if (at == MappedBuffer::kFailed) return false;
    g_remote[i].bytes_at = at;
    g_remote[i].bytes_len = len;
  }
  return true;
}

void remote_restarted() {
  for (size_t i = 0; i < g_remote.size(); ++i) {
    RemoteSocket& s = g_remote[i];
    s.listener = s.fresh = -1;
    if (!listens(s)) continue;
    sockaddr_storage host;
    long host_len = ckpt_host_address(&host, sizeof host);
    sockaddr_storage here;
    uint32_t here_len = 0;
    if (host_len > 0) {
      Endpoint e = endpoint_of(reinterpret_cast<uint8_t*>(&host), static_cast<uint32_t>(host_len));
      e.port = 0;
      here_len = sockaddr_for(s.rec.family, e, here);
    }
    long fd = here_len ? raw_syscall(SYS_socket, s.rec.family, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    socklen_t len = sizeof here;
    if (fd < 0 || raw_syscall(SYS_bind, fd, reinterpret_cast<long>(&here), here_len) != 0 ||
        raw_syscall(SYS_listen, fd, 1) != 0 ||
        raw_syscall(SYS_getsockname, fd, reinterpret_cast<long>(&here), reinterpret_cast<long>(&len)) != 0) {
      if (fd >= 0) raw_syscall(SYS_close, fd);
      warn(s.rec, "cannot listen for its other end on this host: it is closed");
      continue;
    }
    SharedListener l = {endpoint_of(s.rec.local, s.rec.local_len), endpoint_of(s.rec.peer, s.rec.peer_len),
                        endpoint_of(reinterpret_cast<uint8_t*>(&here), len)};
    if (ckpt_share(kListenersName, &l, sizeof l) != 0) {
      raw_syscall(SYS_close, fd);
      warn(s.rec, "cannot tell its other end where to connect: it is closed");
      continue;
    }
    s.listener = static_cast<int>(fd);
  }
}

void remote_reconnect() {
  long deadline = now_ms() + kReconnectTimeoutMs;
  // Connect first: a connection completes in the listener's queue without
  // waiting for its accept, so no end waits for another that waits.
  for (size_t i = 0; i < g_remote.size(); ++i)
    if (!listens(g_remote[i])) g_remote[i].fresh = connect_again(g_remote[i], deadline);
  for (size_t i = 0; i < g_remote.size(); ++i)
    if (g_remote[i].listener >= 0) g_remote[i].fresh = accept_again(g_remote[i], deadline);
  for (size_t i = 0; i < g_remote.size(); ++i) {
    RemoteSocket& s = g_remote[i];
    int fd = s.fresh >= 0 ? s.fresh : closed_placeholder();
    if (fd < 0) continue;
    if (fd != s.rec.fd) {  // the number may have been free, and handed out for the new one
      raw_syscall(SYS_dup3, fd, s.rec.fd, (s.rec.fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
      raw_syscall(SYS_close, fd);
    } else {
      raw_syscall(SYS_fcntl, fd, F_SETFD, (s.rec.fd_flags & FD_CLOEXEC) ? FD_CLOEXEC : 0);
    }
    if (s.fresh >= 0) {
      // Both ends write their bytes again before either reads: the new
      // connection's buffers must hold them (they start small). The
      // receive buffer is made large enough here; the send buffer grows
      // as the bytes need it, and then keeps the size the old one had.
      make_room(s.rec.fd, SO_RCVBUF, s.incoming);
      if (s.bytes_len &&
          !put_back_in_flight(s.rec.fd, g_bytes.data() + s.bytes_at, s.bytes_len, kReconnectTimeoutMs, s.rec.sndbuf))
        warn(s.rec, "could not write again the bytes it had in flight: it is shut down");
    }
    raw_syscall(SYS_fcntl, s.rec.fd, F_SETFL, s.rec.status_flags & (O_NONBLOCK | O_ASYNC));
    s.fresh = -1;
  }
}

}  // namespace ckpt::socket
