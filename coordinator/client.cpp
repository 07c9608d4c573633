#include "client.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
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
  return read_all(fd, payload.data(), payload.size(), error);
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

