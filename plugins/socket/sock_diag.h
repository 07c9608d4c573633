// What the kernel's socket tables say (sock_diag netlink), for the frozen
// phase: the other end of each UNIX socket, and each TCP socket's addresses,
// from which the other end of a connection on this host is found. Raw system
// calls into mmap-backed arrays: no malloc, no stdio.
#pragma once

#include <stdint.h>

#include "ckpt/frozen_io.h"

namespace ckpt::socket {

struct UnixInfo {
  uint64_t ino;
  uint64_t peer_ino;  // 0: none
  uint32_t state;     // TCP_LISTEN, TCP_ESTABLISHED, TCP_CLOSE ...
  uint32_t shutdown;  // kShutRead | kShutWrite
  uint32_t backlog;   // a listener's listen() backlog
  uint32_t reserved;
};

struct InetInfo {
  uint64_t ino;
  uint8_t src[16], dst[16];  // IPv6 form (IPv4 as ::ffff:a.b.c.d)
  uint16_t sport, dport;     // host order
  uint32_t state;
  uint32_t shutdown;
  uint32_t backlog;  // a listener's listen() backlog
  uint32_t reserved;
};

class SocketTables {
 public:
  // Reads the UNIX table and the TCP tables (IPv4 and IPv6) of this network
  // namespace, those asked for (a process without such sockets needs none:
  // a dump costs the pause time). Returns 0 or a negative errno.
  long load(bool unix_table, bool tcp_tables);
  void release() {
    unix_.release();
    queued_.release();
    inet_.release();
  }

  const UnixInfo* find_unix(uint64_t ino);
  // The listening UNIX socket whose accept queue holds the other end of
  // client socket `ino` (a connection not accepted yet); 0: none.
  uint64_t unix_listener_of(uint64_t ino);
  const InetInfo* find_inet(uint64_t ino);
  // The TCP socket whose addresses are `info`'s reversed: the other end of
  // the connection, if it is on this host (inode 0: not accepted yet).
  const InetInfo* find_inet_peer(const InetInfo& info);

 private:
  MappedArray<UnixInfo> unix_;
  struct Queued {
    uint64_t listener, ino;
  };
  MappedArray<Queued> queued_;  // clients of UNIX connections not accepted yet
  MappedArray<InetInfo> inet_;
};

}  // namespace ckpt::socket
