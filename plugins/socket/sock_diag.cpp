#include "sock_diag.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "socket_section.h"

namespace ckpt::socket {
namespace {

constexpr size_t kReceiveBuffer = 32 * 1024;

uint32_t diag_shutdown(uint8_t sk_shutdown) {
  // The kernel's RCV_SHUTDOWN is 1 and SEND_SHUTDOWN 2, as ours.
  return sk_shutdown & (kShutRead | kShutWrite);
}

// Sends `request` (a netlink message) on a new sock_diag socket and hands
// every answer message to `each` until the dump ends.
template <typename Request, typename Each>
long dump(const Request& request, Each each) {
  long nl = raw_syscall(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return nl;
  long rc = raw_syscall(SYS_sendto, nl, reinterpret_cast<long>(&request), sizeof request, 0, 0, 0);
  MappedBuffer buf;
  char* data = buf.grow_for(kReceiveBuffer);
  if (rc >= 0 && !data) rc = -ENOMEM;
  bool done = false;
  while (rc >= 0 && !done) {
    long n = raw_syscall(SYS_recvfrom, nl, reinterpret_cast<long>(data), kReceiveBuffer, 0, 0, 0);
    if (n == -EINTR) continue;
    if (n <= 0) {
      rc = n < 0 ? n : -EIO;
      break;
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(data); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        rc = err->error < 0 ? err->error : -EIO;
        break;
      }
      if (!each(h)) {
        rc = -ENOMEM;
        break;
      }
    }
  }
  buf.release();
  raw_syscall(SYS_close, nl);
  return rc < 0 ? rc : 0;
}

void to_v6(int family, const uint32_t addr[4], uint8_t out[16]) {
  memset(out, 0, 16);
  if (family == AF_INET) {
    out[10] = out[11] = 0xff;
    memcpy(out + 12, addr, 4);
  } else {
    memcpy(out, addr, 16);
  }
}

// A dump request of sock_diag: the netlink header, then the family's request.
template <typename Req>
struct Request {
  nlmsghdr nh;
  Req req;
};

template <typename Req>
Request<Req> dump_request() {
  Request<Req> r = {};
  r.nh.nlmsg_len = sizeof r;
  r.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  return r;
}

// Calls fn(type, value, length) for each attribute of answer `h` after its
// fixed part `msg` (of `fixed` bytes), as far as the lengths are sound;
// false as soon as fn returns false.
template <typename Fn>
bool for_each_attr(const nlmsghdr* h, const void* msg, size_t fixed, Fn fn) {
  long left = static_cast<long>(h->nlmsg_len) - static_cast<long>(NLMSG_LENGTH(fixed));
  auto* a = reinterpret_cast<const nlattr*>(static_cast<const char*>(msg) + fixed);
  while (left >= static_cast<long>(sizeof(nlattr)) && a->nla_len >= sizeof(nlattr) && a->nla_len <= left) {
    if (!fn(a->nla_type, reinterpret_cast<const char*>(a) + NLA_HDRLEN, static_cast<size_t>(a->nla_len - NLA_HDRLEN)))
      return false;
    long step = NLA_ALIGN(a->nla_len);
    left -= step;
    a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + step);
  }
  return true;
}

template <typename Queued>
long load_unix(MappedArray<UnixInfo>& out, MappedArray<Queued>& queued) {
  auto request = dump_request<unix_diag_req>();
  request.req.sdiag_family = AF_UNIX;
  request.req.udiag_states = ~0u;
  request.req.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN;
  return dump(request, [&](nlmsghdr* h) {
    auto* msg = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
    UnixInfo info = {msg->udiag_ino, 0, msg->udiag_state, 0, 0, 0};
    bool ok = for_each_attr(h, msg, sizeof *msg, [&](int type, const char* value, size_t len) {
      if (type == UNIX_DIAG_PEER && len >= 4) memcpy(&info.peer_ino, value, 4);
      if (type == UNIX_DIAG_SHUTDOWN && len >= 1) info.shutdown = diag_shutdown(static_cast<uint8_t>(*value));
      if (type == UNIX_DIAG_RQLEN && len >= sizeof(unix_diag_rqlen) && msg->udiag_state == TCP_LISTEN)
        info.backlog = reinterpret_cast<const unix_diag_rqlen*>(value)->udiag_wqueue;  // a listener's: max backlog
      if (type == UNIX_DIAG_ICONS)  // a listener: the clients of the connections in its queue
        for (size_t k = 0; k + 4 <= len; k += 4) {
          uint32_t icon;
          memcpy(&icon, value + k, 4);
          if (!queued.push({msg->udiag_ino, icon})) return false;
        }
      return true;
    });
    return ok && out.push(info);
  });
}

long load_tcp(int family, MappedArray<InetInfo>& out) {
  auto request = dump_request<inet_diag_req_v2>();
  request.req.sdiag_family = static_cast<uint8_t>(family);
  request.req.sdiag_protocol = IPPROTO_TCP;
  request.req.idiag_states = ~0u;
  return dump(request, [&](nlmsghdr* h) {
    auto* msg = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
    InetInfo info = {};
    info.ino = msg->idiag_inode;
    to_v6(msg->idiag_family, msg->id.idiag_src, info.src);
    to_v6(msg->idiag_family, msg->id.idiag_dst, info.dst);
    info.sport = ntohs(msg->id.idiag_sport);
    info.dport = ntohs(msg->id.idiag_dport);
    info.state = msg->idiag_state;
    if (info.state == TCP_LISTEN) info.backlog = msg->idiag_wqueue;  // a listener's: max backlog
    for_each_attr(h, msg, sizeof *msg, [&](int type, const char* value, size_t len) {
      if (type == INET_DIAG_SHUTDOWN && len >= 1) info.shutdown = diag_shutdown(static_cast<uint8_t>(*value));
      return true;
    });
    return out.push(info);
  });
}

}  // namespace

long SocketTables::load(bool unix_table, bool tcp_tables) {
  unix_.clear();
  queued_.clear();
  inet_.clear();
  long rc = unix_table ? load_unix(unix_, queued_) : 0;
  if (rc == 0 && tcp_tables) rc = load_tcp(AF_INET, inet_);
  if (rc == 0 && tcp_tables) rc = load_tcp(AF_INET6, inet_);
  return rc;
}

const UnixInfo* SocketTables::find_unix(uint64_t ino) {
  for (size_t i = 0; i < unix_.size(); ++i)
    if (unix_[i].ino == ino) return &unix_[i];
  return nullptr;
}

uint64_t SocketTables::unix_listener_of(uint64_t ino) {
  for (size_t i = 0; i < queued_.size(); ++i)
    if (queued_[i].ino == ino) return queued_[i].listener;
  return 0;
}

const InetInfo* SocketTables::find_inet(uint64_t ino) {
  for (size_t i = 0; i < inet_.size(); ++i)
    if (inet_[i].ino == ino) return &inet_[i];
  return nullptr;
}

const InetInfo* SocketTables::find_inet_peer(const InetInfo& info) {
  for (size_t i = 0; i < inet_.size(); ++i) {
    const InetInfo& o = inet_[i];
    if (&o != &info && o.sport == info.dport && o.dport == info.sport &&
        memcmp(o.src, info.dst, 16) == 0 && memcmp(o.dst, info.src, 16) == 0)
      return &o;
  }
  return nullptr;
}

}  // namespace ckpt::socket
