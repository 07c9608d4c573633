#include "coord_client.h"

#include "core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace ckpt {

bool CoordClient::set_numeric(const char* host, uint16_t port) {
  memset(&addr_, 0, sizeof addr_);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr_);
  if (!strcmp(host, "localhost")) host = "127.0.0.1";
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    addr_len_ = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    addr_len_ = sizeof *v6;
    return true;
  }
  return false;
}

bool CoordClient::resolve(const char* host, uint16_t port) {
  if (set_numeric(host, port)) return true;
  // The coordinator listens on 127.0.0.1 unless told otherwise; where
  // "localhost" resolves to ::1 first, the first answer would miss it.
  if (strcmp(host, "localhost") == 0) return set_numeric("127.0.0.1", port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host, nullptr, &hints, &res) != 0 || !res) return false;
  memcpy(&addr_, res->ai_addr, res->ai_addrlen);
  addr_len_ = res->ai_addrlen;
  if (addr_.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&addr_)->sin_port = htons(port);
  else reinterpret_cast<sockaddr_in6*>(&addr_)->sin6_port = htons(port);
  freeaddrinfo(res);
  return true;
}

bool CoordClient::connect(int timeout_ms, const auth::Secret& secret, char* why, size_t why_cap) {
  close();
  if (!addr_len_) return false;
  // Out of the application's way and out of its reach (protected_fds.cpp),
  // before a fork can copy it at the number socket() gives.
  own_fd_window_enter();
  int fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd >= 0) fd = protect_fd(fd, &fd_);
  own_fd_window_leave();
  if (fd < 0) return false;
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_);
  if (rc < 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) rc = 0;
  }
  if (rc < 0) {
    close();
    return false;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char ignored[8];
  if (!auth::client_handshake(fd, secret, timeout_ms, why ? why : ignored, why ? why_cap : sizeof ignored)) {
    close();
    return false;
  }
  return true;
}

void CoordClient::adopt(int fd) {
  close();
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  protect_fd(fd, &fd_);
}

void CoordClient::close() {
  close_own_fd(fd_);
  fd_ = -1;
}

bool CoordClient::read_all(void* buf, size_t len) {
  char* p = static_cast<char*>(buf);
  while (len) {
    ssize_t n = ::recv(fd_, p, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= n;
  }
  return true;
}

bool CoordClient::send(proto::MsgType type, uint64_t generation, uint64_t arg, const void* payload,
                       uint32_t payload_len, int32_t status) {
  if (fd_ < 0) return false;
  proto::MsgHeader h = proto::make_header(type, payload_len, generation, arg, status);
  // One sendmsg per message: the image writer (a copy of this process)
  // reports WRITTEN on the same connection, and a message sent in one call
  // is not interleaved with another's while the socket buffer has room.
  iovec iov[2] = {{&h, sizeof h}, {const_cast<void*>(payload), payload_len}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = payload_len ? 2 : 1;
  size_t left = sizeof h + payload_len;
  while (left) {
    ssize_t n = ::sendmsg(fd_, &m, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close();
      return false;
    }
    left -= static_cast<size_t>(n);
    // A partial send: skip what went out.
    while (m.msg_iovlen && static_cast<size_t>(n) >= m.msg_iov[0].iov_len) {
      n -= static_cast<ssize_t>(m.msg_iov[0].iov_len);
      ++m.msg_iov;
      --m.msg_iovlen;
    }
    if (m.msg_iovlen) {
      m.msg_iov[0].iov_base = static_cast<char*>(m.msg_iov[0].iov_base) + n;
      m.msg_iov[0].iov_len -= static_cast<size_t>(n);
    }
  }
  return true;
}

bool CoordClient::receive(proto::MsgHeader& h, void* payload, size_t cap, MappedBuffer* rest) {
  if (fd_ < 0 || !read_all(&h, sizeof h) || !proto::header_is_valid(h)) {
    close();
    return false;
  }
  size_t keep = h.payload_len < cap ? h.payload_len : cap;
  if (keep && !read_all(payload, keep)) {
    close();
    return false;
  }
  if (rest) rest->clear();
  if (rest && h.payload_len > keep) {
    size_t more = h.payload_len - keep;
    char* dst = rest->grow_for(more);
    if (dst) {
      if (!read_all(dst, more)) {
        close();
        return false;
      }
      rest->commit(more);
      return true;
    }
  }
  char sink[512];
  for (size_t rest = h.payload_len - keep; rest;) {
    size_t n = rest < sizeof sink ? rest : sizeof sink;
    if (!read_all(sink, n)) {
      close();
      return false;
    }
    rest -= n;
  }
  return true;
}

}  // namespace ckpt
