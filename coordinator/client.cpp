#include "client.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ckpt::coord {

int connect_to(const std::string& host, uint16_t port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    error = ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  error = "no usable address";
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    int rc;
    do rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    while (rc != 0 && errno == EINTR);
    if (rc == 0) break;
    error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(list);
  if (fd >= 0) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

namespace {

bool write_all(int fd, const char* data, size_t len, std::string& error) {
  while (len > 0) {
    const ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::strerror(errno);
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* data, size_t len, std::string& error) {
  while (len > 0) {
    const ssize_t n = ::recv(fd, data, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno == EAGAIN ? "timed out waiting for the coordinator" : std::strerror(errno);
      return false;
    }
    if (n == 0) {
      error = "connection closed by the coordinator";
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool send_message(int fd, const proto::MsgHeader& header, std::string_view payload, std::string& error) {
  return write_all(fd, reinterpret_cast<const char*>(&header), sizeof header, error) &&
         write_all(fd, payload.data(), payload.size(), error);
}

bool recv_message(int fd, proto::MsgHeader& header, std::string& payload, std::string& error) {
  if (!read_all(fd, reinterpret_cast<char*>(&header), sizeof header, error)) return false;
  if (!proto::header_is_valid(header)) {
    error = "not a ckpt coordinator (bad message header)";
    return false;
  }
  payload.resize(header.payload_len);
  if (!read_all(fd, payload.data(), payload.size(), error)) return false;
  if (header.type == static_cast<uint16_t>(proto::MsgType::AuthRefused)) {
    error = "refused by the coordinator: " + payload;
    return false;
  }
  return true;
}

ProbeResult probe_local_port(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ProbeResult::NotListening;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool listening = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (!listening && errno == EINPROGRESS) {
    // Loopback handshakes finish within the call on Linux; this only waits
    // if the listener's backlog is full.
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    listening = ::poll(&p, 1, 200) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  ::close(fd);
  return listening ? ProbeResult::Listening : ProbeResult::NotListening;
}

bool host_is_local(const std::string& host) {
  if (host.empty() || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0) return true;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return false;
  const std::string self = name;
  // Also accept the short form of a fully qualified hostname, and vice versa.
  auto short_name = [](const std::string& s) { return s.substr(0, s.find('.')); };
  return host == self || short_name(host) == short_name(self);
}

}  // namespace ckpt::coord


namespace ckpt::coord {

namespace {

// An address as /proc/net/tcp{,6} prints it: the raw 32-bit words of the
// address in host order (%08X each), then the port.
struct TableAddress {
  bool v6 = false;
  uint32_t words[4] = {};
  uint16_t port = 0;
  bool operator==(const TableAddress&) const = default;
};

std::optional<TableAddress> table_address(const sockaddr_storage& ss) {
  TableAddress a;
  if (ss.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(ss);
    std::memcpy(&a.words[0], &v4.sin_addr, 4);
    a.port = ntohs(v4.sin_port);
    return a;
  }
  if (ss.ss_family != AF_INET6) return std::nullopt;
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(ss);
  a.port = ntohs(v6.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {  // an IPv4 peer of a dual-stack socket: in /proc/net/tcp
    std::memcpy(&a.words[0], &v6.sin6_addr.s6_addr[12], 4);
    return a;
  }
  a.v6 = true;
  std::memcpy(a.words, &v6.sin6_addr, 16);
  return a;
}

bool is_loopback(const TableAddress& a) {
  if (!a.v6) return (ntohl(a.words[0]) >> 24) == 127;
  in6_addr addr;
  std::memcpy(&addr, a.words, 16);
  return IN6_IS_ADDR_LOOPBACK(&addr);
}

// "0100007F:1E63" (or 32 hex digits for IPv6) into `out`.
bool parse_table_address(const char* text, bool v6, TableAddress& out) {
  out.v6 = v6;
  const int words = v6 ? 4 : 1;
  for (int i = 0; i < words; ++i) {
    char word[9] = {};
    std::memcpy(word, text + 8 * i, 8);
    char* end = nullptr;
    out.words[i] = static_cast<uint32_t>(std::strtoul(word, &end, 16));
    if (end != word + 8) return false;
  }
  const char* colon = text + 8 * words;
  if (*colon != ':') return false;
  out.port = static_cast<uint16_t>(std::strtoul(colon + 1, nullptr, 16));
  return true;
}

// The kernel's socket whose local end is `self` and remote end `other`,
// looked up by its 4-tuple through sock_diag (one request, one answer):
// reading /proc/net/tcp instead costs a line per socket of the machine, and
// a machine that just closed thousands of connections (TIME_WAIT) made
// every ckpt_launch and every process joining the coordinator scan them.
// nullopt if the kernel does not answer (no sock_diag) or has no such socket.
std::optional<LoopbackPeer> diag_lookup(const TableAddress& self, const TableAddress& other) {
  const int nl = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return std::nullopt;
  struct {
    nlmsghdr nh;
    inet_diag_req_v2 req;
  } request{};
  request.nh.nlmsg_len = sizeof request;
  request.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.nh.nlmsg_flags = NLM_F_REQUEST;
  request.req.sdiag_family = self.v6 ? AF_INET6 : AF_INET;
  request.req.sdiag_protocol = IPPROTO_TCP;
  request.req.idiag_states = ~0u;
  request.req.id.idiag_sport = htons(self.port);
  request.req.id.idiag_dport = htons(other.port);
  std::memcpy(request.req.id.idiag_src, self.words, self.v6 ? 16 : 4);
  std::memcpy(request.req.id.idiag_dst, other.words, other.v6 ? 16 : 4);
  request.req.id.idiag_cookie[0] = request.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  std::optional<LoopbackPeer> found;
  alignas(nlmsghdr) char answer[1024];
  timeval patience{1, 0};
  ::setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  if (::sendto(nl, &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) ==
      static_cast<ssize_t>(sizeof request)) {
    const ssize_t n = ::recv(nl, answer, sizeof answer, 0);
    const auto* h = reinterpret_cast<const nlmsghdr*>(answer);
    if (n >= static_cast<ssize_t>(sizeof *h) && NLMSG_OK(h, static_cast<unsigned>(n)) &&
        h->nlmsg_type == SOCK_DIAG_BY_FAMILY && h->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
      const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      // The kernel matched the whole 4-tuple; check it all the same.
      if (ntohs(msg->id.idiag_sport) == self.port && ntohs(msg->id.idiag_dport) == other.port &&
          std::memcmp(msg->id.idiag_src, self.words, self.v6 ? 16 : 4) == 0 &&
          std::memcmp(msg->id.idiag_dst, other.words, other.v6 ? 16 : 4) == 0)
        found = LoopbackPeer{static_cast<uid_t>(msg->idiag_uid), static_cast<unsigned long>(msg->idiag_inode)};
    }
  }
  ::close(nl);
  return found;
}

}  // namespace

std::optional<LoopbackPeer> loopback_peer(int fd) {
  sockaddr_storage ours{}, theirs{};
  socklen_t len = sizeof ours;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ours), &len) != 0) return std::nullopt;
  len = sizeof theirs;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&theirs), &len) != 0) return std::nullopt;
  const auto local = table_address(ours), peer = table_address(theirs);
  if (!local || !peer || !is_loopback(*peer)) return std::nullopt;
  // The peer's socket is the one whose local end is its address and whose
  // remote end is ours.
  if (auto diag = diag_lookup(*peer, *local)) return diag;
  FILE* table = std::fopen(peer->v6 ? "/proc/net/tcp6" : "/proc/net/tcp", "re");
  if (table == nullptr) return std::nullopt;
  std::optional<LoopbackPeer> found;
  char line[512];
  std::fgets(line, sizeof line, table);  // the column names
  while (!found && std::fgets(line, sizeof line, table) != nullptr) {
    char local_text[64], remote_text[64];
    unsigned state = 0, uid = 0;
    unsigned long inode = 0;
    if (std::sscanf(line, " %*d: %63s %63s %x %*s %*s %*s %u %*d %lu", local_text, remote_text, &state, &uid,
                    &inode) != 5)
      continue;
    TableAddress row_local, row_remote;
    if (parse_table_address(local_text, peer->v6, row_local) && parse_table_address(remote_text, peer->v6, row_remote) &&
        row_local == *peer && row_remote == *local)
      found = LoopbackPeer{static_cast<uid_t>(uid), inode};
  }
  std::fclose(table);
  return found;
}

std::optional<uid_t> loopback_peer_uid(int fd) {
  const auto peer = loopback_peer(fd);
  if (!peer) return std::nullopt;
  return peer->uid;
}

int connect_authenticated(const std::string& host, uint16_t port, const auth::Secret& secret, std::string& error,
                          bool& refused) {
  refused = false;
  const int fd = connect_to(host, port, error);
  if (fd < 0) return -1;
  // Strict on this side: our images must never go where another user chose.
  if (const auto owner = loopback_peer_uid(fd); owner && *owner != ::geteuid()) {
    error = "the coordinator there belongs to uid " + std::to_string(*owner) + ", not to you (uid " +
            std::to_string(::geteuid()) + ")";
    refused = true;
    ::close(fd);
    return -1;
  }
  char why[512];
  if (!auth::client_handshake(fd, secret, 10000, why, sizeof why)) {
    error = why;
    refused = true;
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace ckpt::coord
