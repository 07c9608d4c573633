// A saved socket address as text, for the restart's messages and
// ckpt_info: "127.0.0.1:80", "[::1]:80", "/run/x.sock", "@abstract"; "" for
// an unnamed or unknown one. Reads the record's bytes only within `len`.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace ckpt::socket {

inline std::string address_text(int family, const uint8_t* a, uint32_t len) {
  char buf[64];
  if (family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, a, sizeof in);
    const auto* b = reinterpret_cast<const uint8_t*>(&in.sin_addr);
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], ntohs(in.sin_port));
    return buf;
  }
  if (family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in;
    std::memcpy(&in, a, sizeof in);
    std::string text = "[";
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", in.sin6_addr.s6_addr[i] << 8 | in.sin6_addr.s6_addr[i + 1]);
      text += buf;
    }
    std::snprintf(buf, sizeof buf, "]:%u", ntohs(in.sin6_port));
    return text + buf;
  }
  if (family == AF_UNIX && len > sizeof(sa_family_t) && len <= sizeof(sockaddr_un)) {
    const char* path = reinterpret_cast<const char*>(a) + sizeof(sa_family_t);
    size_t n = len - sizeof(sa_family_t);
    if (path[0] == '\0') return "@" + std::string(path + 1, n - 1);
    return std::string(path, strnlen(path, n));
  }
  return "";
}

}  // namespace ckpt::socket
