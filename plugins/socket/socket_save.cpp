#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "socket_checkpoint.h"
#include "socket_drain.h"
#include "socket_section.h"
#include "sock_diag.h"
#include "socket_remote.h"

namespace ckpt::socket {
namespace {

// Who holds which socket, in every process of the computation.
struct SocketHolder {
  uint64_t ino;
  pid_t vpid;
  int32_t fd;
  uint64_t key() const { return static_cast<uint64_t>(static_cast<uint32_t>(vpid)) << 32 | static_cast<uint32_t>(fd); }
};

// Reused from one checkpoint to the next; released after each.
MappedBuffer g_section;  // SocketSectionHeader, then the SocketRecords
MappedArray<int> g_fds;
MappedArray<SocketHolder> g_holders;
SocketTables g_tables;

// The options a restart sets again, where the kernel lets us read them.
struct OptionName {
  int level;
  int name;
  int family;  // 0: any; else only on sockets of this family
  int type;    // 0: any
};
constexpr OptionName kOptions[] = {
    {SOL_SOCKET, SO_REUSEADDR, 0, 0},     {SOL_SOCKET, SO_REUSEPORT, 0, 0},   {SOL_SOCKET, SO_KEEPALIVE, 0, 0},
    {SOL_SOCKET, SO_BROADCAST, 0, 0},     {SOL_SOCKET, SO_OOBINLINE, 0, 0},   {SOL_SOCKET, SO_PASSCRED, 0, 0},
    {SOL_SOCKET, SO_RCVLOWAT, 0, 0},      {SOL_SOCKET, SO_LINGER, 0, 0},      {SOL_SOCKET, SO_RCVTIMEO_OLD, 0, 0},
    {SOL_SOCKET, SO_SNDTIMEO_OLD, 0, 0},  {SOL_SOCKET, SO_PRIORITY, 0, 0},    {SOL_SOCKET, SO_PEEK_OFF, AF_UNIX, 0},
    {IPPROTO_TCP, TCP_NODELAY, AF_INET, SOCK_STREAM},       {IPPROTO_TCP, TCP_NODELAY, AF_INET6, SOCK_STREAM},
    {IPPROTO_TCP, TCP_KEEPIDLE, AF_INET, SOCK_STREAM},      {IPPROTO_TCP, TCP_KEEPIDLE, AF_INET6, SOCK_STREAM},
    {IPPROTO_TCP, TCP_KEEPINTVL, AF_INET, SOCK_STREAM},     {IPPROTO_TCP, TCP_KEEPINTVL, AF_INET6, SOCK_STREAM},
    {IPPROTO_TCP, TCP_KEEPCNT, AF_INET, SOCK_STREAM},       {IPPROTO_TCP, TCP_KEEPCNT, AF_INET6, SOCK_STREAM},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, AF_INET, SOCK_STREAM},  {IPPROTO_TCP, TCP_USER_TIMEOUT, AF_INET6, SOCK_STREAM},
    {IPPROTO_IPV6, IPV6_V6ONLY, AF_INET6, 0},               {IPPROTO_IP, IP_TOS, AF_INET, 0},
};
static_assert(sizeof kOptions / sizeof kOptions[0] <= kMaxOptions);

long getsockopt_raw(int fd, int level, int name, void* value, socklen_t* len) {
  return raw_syscall(SYS_getsockopt, fd, level, name, reinterpret_cast<long>(value), reinterpret_cast<long>(len));
}

int int_option(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  return getsockopt_raw(fd, level, name, &v, &len) == 0 ? v : -1;
}

bool is_socket(int fd) {
  struct stat st;
  return raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) == 0 && S_ISSOCK(st.st_mode);
}

// The kinds this plugin saves; anything else (netlink, packet, raw ...) is
// left to the fd plugin, which fails the checkpoint naming it.
bool is_ours(int fd) {
  if (!is_socket(fd)) return false;
  int family = int_option(fd, SOL_SOCKET, SO_DOMAIN), type = int_option(fd, SOL_SOCKET, SO_TYPE);
  bool family_ok = family == AF_UNIX || family == AF_INET || family == AF_INET6;
  bool type_ok = type == SOCK_STREAM || type == SOCK_DGRAM || type == SOCK_SEQPACKET;
  if (family != AF_UNIX && type == SOCK_SEQPACKET) type_ok = false;  // SCTP
  if (family != AF_UNIX && type == SOCK_DGRAM && int_option(fd, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_UDP) type_ok = false;
  return family_ok && type_ok;
}

uint64_t socket_ino(const char* link) {
  constexpr char kPrefix[] = "socket:[";
  if (strncmp(link, kPrefix, sizeof kPrefix - 1) != 0) return 0;
  uint64_t v = 0;
  for (const char* p = link + sizeof kPrefix - 1; *p >= '0' && *p <= '9'; ++p) v = v * 10 + static_cast<uint64_t>(*p - '0');
  return v;
}

// Adds every socket descriptor of process (vpid, real); real 0: this one.
long add_holders(pid_t vpid, pid_t real) {
  MappedArray<int> fds;
  long n = list_fds(real, fds);
  for (long i = 0; i < n; ++i) {
    char link[64];
    if (read_link(proc_path(real, "fd", fds[i]).c_str(), link, sizeof link) <= 0) continue;
    uint64_t ino = socket_ino(link);
    if (ino && !g_holders.push({ino, vpid, fds[i]})) {
      n = -ENOMEM;
      break;
    }
  }
  fds.release();
  return n;
}

// The lowest holder of socket `ino`, or null.
const SocketHolder* lowest_holder(uint64_t ino) {
  const SocketHolder* best = nullptr;
  for (size_t i = 0; i < g_holders.size(); ++i)
    if (g_holders[i].ino == ino && (!best || g_holders[i].key() < best->key())) best = &g_holders[i];
  return best;
}

bool held_inside(uint64_t ino) { return ino != 0 && lowest_holder(ino) != nullptr; }

void release_all() {
  g_section.release();
  g_fds.release();
  g_holders.release();
  g_tables.release();
}

// "fd N (a UNIX stream socket ...): why"
void fail_for(const SocketRecord& r, const char* why) {
  ShortText fd_text;
  fd_text.add("fd ").dec(r.fd).add(", a socket, ");
  char text[400];
  MessageText(text, sizeof text).add(fd_text.c_str()).add(why);
  ckpt_fail_checkpoint(text);
}

void read_options(SocketRecord& r) {
  for (const OptionName& o : kOptions) {
    if ((o.family && o.family != r.family) || (o.type && o.type != r.type)) continue;
    SocketOption& opt = r.options[r.option_count];
    socklen_t len = sizeof opt.value;
    if (getsockopt_raw(r.fd, o.level, o.name, opt.value, &len) != 0) continue;
    opt.level = o.level;
    opt.name = o.name;
    opt.len = len;
    ++r.option_count;
  }
}

bool is_bound(const SocketRecord& r) {
  if (r.family == AF_UNIX) return r.local_len > sizeof(sa_family_t);
  if (r.family == AF_INET) return reinterpret_cast<const sockaddr_in*>(r.local)->sin_port != 0;
  return reinterpret_cast<const sockaddr_in6*>(r.local)->sin6_port != 0;
}

bool describe(int fd, SocketRecord& r) {
  memset(&r, 0, sizeof r);
  long fd_flags = raw_syscall(SYS_fcntl, fd, F_GETFD), status = raw_syscall(SYS_fcntl, fd, F_GETFL);
  if (fd_flags < 0 || status < 0) return false;
  char link[64];
  if (read_link(proc_path(0, "fd", fd).c_str(), link, sizeof link) <= 0) return false;
  r.fd = fd;
  r.fd_flags = static_cast<uint32_t>(fd_flags);
  r.status_flags = static_cast<uint32_t>(status);
  r.ino = socket_ino(link);
  r.family = int_option(fd, SOL_SOCKET, SO_DOMAIN);
  r.type = int_option(fd, SOL_SOCKET, SO_TYPE);
  r.protocol = int_option(fd, SOL_SOCKET, SO_PROTOCOL);
  socklen_t len = sizeof r.local;
  if (raw_syscall(SYS_getsockname, fd, reinterpret_cast<long>(r.local), reinterpret_cast<long>(&len)) == 0)
    r.local_len = len;
  len = sizeof r.peer;
  bool connected = raw_syscall(SYS_getpeername, fd, reinterpret_cast<long>(r.peer), reinterpret_cast<long>(&len)) == 0;
  if (connected) r.peer_len = len;
  if (int_option(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1) r.state = static_cast<uint32_t>(SocketState::Listening);
  else if (connected) r.state = static_cast<uint32_t>(SocketState::Connected);
  else if (is_bound(r)) r.state = static_cast<uint32_t>(SocketState::Bound);
  else r.state = static_cast<uint32_t>(SocketState::Unbound);
  read_options(r);
  r.sndbuf = int_option(fd, SOL_SOCKET, SO_SNDBUF);
  r.rcvbuf = int_option(fd, SOL_SOCKET, SO_RCVBUF);
  return true;
}

// Backlog and the other end, from the kernel's tables.
void find_peer(SocketRecord& r) {
  if (r.family == AF_UNIX) {
    const UnixInfo* u = g_tables.find_unix(r.ino);
    if (!u) return;
    r.shutdown = u->shutdown;
    if (static_cast<SocketState>(r.state) == SocketState::Listening) r.backlog = static_cast<int32_t>(u->backlog);
    if (static_cast<SocketState>(r.state) != SocketState::Connected) return;
    r.peer_ino = u->peer_ino;
    const UnixInfo* p = u->peer_ino ? g_tables.find_unix(u->peer_ino) : nullptr;
    if (p) r.peer_shutdown = p->shutdown;
    if (held_inside(u->peer_ino)) r.peer_kind = static_cast<uint32_t>(PeerKind::Inside);
    else if (held_inside(g_tables.unix_listener_of(r.ino)) && r.peer_len > sizeof(sa_family_t))
      r.peer_kind = static_cast<uint32_t>(PeerKind::Pending);  // connects to the listener's name again
    else if (!p || (r.type != SOCK_DGRAM && (u->shutdown & (kShutRead | kShutWrite)) == (kShutRead | kShutWrite)))
      r.peer_kind = static_cast<uint32_t>(PeerKind::Closed);
    else r.peer_kind = static_cast<uint32_t>(PeerKind::Outside);
    return;
  }
  if (r.type == SOCK_DGRAM) return;  // UDP: connected to an address, which a restart connects to again
  const InetInfo* t = g_tables.find_inet(r.ino);
  if (!t) return;
  r.shutdown = t->shutdown;
  if (static_cast<SocketState>(r.state) == SocketState::Listening) r.backlog = static_cast<int32_t>(t->backlog);
  if (static_cast<SocketState>(r.state) != SocketState::Connected) return;
  const InetInfo* p = g_tables.find_inet_peer(*t);
  if (p) {
    r.peer_ino = p->ino;
    r.peer_shutdown = p->shutdown;
  }
  uint32_t remote_shutdown = 0;
  bool shared = peer_shared(r, &remote_shutdown);
  if (p && held_inside(p->ino)) {
    r.peer_kind = static_cast<uint32_t>(PeerKind::Inside);
    // A process that holds the other end but takes no part in this
    // checkpoint (one still joining the computation) would not answer the
    // drain exchange: refuse rather than write the marker into its stream.
    if (!shared) r.peer_kind = static_cast<uint32_t>(PeerKind::Absent);
  } else if (shared && !peer_is_loopback(r)) {
    r.peer_kind = static_cast<uint32_t>(PeerKind::Remote);
    r.peer_ino = 0;
    r.peer_shutdown = remote_shutdown;
  } else if (t->state == TCP_CLOSE_WAIT || t->state == TCP_CLOSE || t->state == TCP_LAST_ACK) {
    r.peer_kind = static_cast<uint32_t>(PeerKind::Closed);
  } else if (p && p->ino == 0 && t->state == TCP_ESTABLISHED) {
    // Not accepted yet: is the listener ours?
    r.peer_kind = static_cast<uint32_t>(PeerKind::Outside);
    for (size_t i = 0; i < g_holders.size(); ++i) {
      const InetInfo* l = g_tables.find_inet(g_holders[i].ino);
      if (l && l->state == TCP_LISTEN && l->sport == t->dport &&
          (memcmp(l->src, t->dst, 16) == 0 || memcmp(l->src, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0 ||
           memcmp(l->src, "\0\0\0\0\0\0\0\0\0\0\xff\xff\0\0\0\0", 16) == 0)) {
        r.peer_kind = static_cast<uint32_t>(PeerKind::Pending);
        break;
      }
    }
  } else {
    r.peer_kind = static_cast<uint32_t>(PeerKind::Outside);
  }
}

bool any_claimed_socket() {
  for (size_t i = 0; i < g_fds.size(); ++i)
    if (ckpt_fd_claimed(g_fds[i]) && is_socket(g_fds[i])) return true;
  return false;
}

}  // namespace

void claim_sockets() {
  MappedArray<int> fds;
  long n = list_fds(0, fds);
  for (long i = 0; i < n; ++i)
    if (!ckpt_is_protected_fd(fds[i]) && is_ours(fds[i])) ckpt_claim_fd(fds[i]);
  fds.release();
  share_connections();
}

void checkpoint_sockets(const SocketPolicy& policy) {
  release_all();
  forget_exchanged();
  forget_remote();
  if (list_fds(0, g_fds) < 0) {
    ckpt_fail_checkpoint("cannot list /proc/self/fd");
    return;
  }
  bool any_unix = false, any_tcp = false;
  for (size_t i = 0; i < g_fds.size(); ++i) {
    if (!ckpt_fd_claimed(g_fds[i]) || !is_socket(g_fds[i])) continue;
    int family = int_option(g_fds[i], SOL_SOCKET, SO_DOMAIN);
    any_unix |= family == AF_UNIX;
    any_tcp |= family != AF_UNIX && int_option(g_fds[i], SOL_SOCKET, SO_TYPE) == SOCK_STREAM;
  }
  if (!any_unix && !any_tcp && !any_claimed_socket()) {
    release_all();
    return;
  }
  const char* failure = nullptr;
  if (g_tables.load(any_unix, any_tcp) < 0) failure = "cannot read the kernel's socket tables (sock_diag)";
  if (!failure)
    ckpt_for_each_process(
        [](pid_t virt, pid_t real, void* arg) {
          if (add_holders(virt, real) != -ENOMEM) return 0;
          *static_cast<const char**>(arg) = "out of memory for the sockets of the computation";
          return 1;
        },
        &failure);
  if (!failure && g_section.append(nullptr, sizeof(SocketSectionHeader)) == MappedBuffer::kFailed)
    failure = "out of memory for the socket table";
  if (failure) {
    ckpt_fail_checkpoint(failure);
    release_all();
    return;
  }
  pid_t self = ckpt_virtual_pid(static_cast<pid_t>(raw_syscall(SYS_getpid)));
  uint32_t count = 0;
  for (size_t i = 0; i < g_fds.size(); ++i) {
    int fd = g_fds[i];
    if (!ckpt_fd_claimed(fd) || !is_socket(fd)) continue;
    size_t at = g_section.append(nullptr, sizeof(SocketRecord));
    if (at == MappedBuffer::kFailed) {
      ckpt_fail_checkpoint("out of memory for the socket table");
      release_all();
      return;
    }
    SocketRecord& r = *g_section.at<SocketRecord>(at);
    if (!describe(fd, r)) {
      g_section.truncate(at);
      continue;
    }
    const SocketHolder* lead = lowest_holder(r.ino);
    r.leader = lead && lead->vpid == self && lead->fd == fd ? 1 : 0;
    find_peer(r);
    ++count;
  }
  // The bytes in flight, by the leader of each socket (the section does not
  // grow any more: the records stay where they are).
  SocketRecord* records = g_section.at<SocketRecord>(sizeof(SocketSectionHeader));
  // Every record, even after one failed: the other processes run their
  // ends of the exchanges whatever happens here, so this process must run
  // its ends too, or their markers would stay in its streams (the first
  // reason is the checkpoint's).
  for (uint32_t i = 0; i < count; ++i) {
    SocketRecord& r = records[i];
    if (!r.leader) continue;
    const char* why = nullptr;
    if (static_cast<PeerKind>(r.peer_kind) == PeerKind::Absent)
      why = "is connected to a process of the computation that is not taking part in this checkpoint (it is still "
            "joining the computation): try again";
    else if (static_cast<PeerKind>(r.peer_kind) == PeerKind::Remote && !keep_remote(r))
      why = "out of memory for the connections to other hosts";
    else if (policy.fail_outside && static_cast<PeerKind>(r.peer_kind) == PeerKind::Outside && r.type != SOCK_DGRAM)
      why = "is connected to a peer outside the computation (CKPT_OUTSIDE_CONNECTIONS=fail)";
    else
      why = save_queues(r);
    if (why) fail_for(r, why);
  }
  char why[400];
  if (run_exchanges(records, count, why, sizeof why)) ckpt_fail_checkpoint(why);
  auto& h = *g_section.at<SocketSectionHeader>(0);
  h.version = kSocketSectionVersion;
  h.count = count;
  ckpt_save_section(kSocketSection, g_section.data(), g_section.size());
  release_all();
}

}  // namespace ckpt::socket
