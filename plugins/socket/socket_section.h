// The socket kind's image schema: section "sockets" (one SocketRecord per
// descriptor of a socket), and the bytes in flight of each socket, in
// sections named by its inode. Written by the checkpoint side
// (socket_save.cpp, socket_drain.cpp), read by the restart side
// (socket_restart.cpp) and decoded for ckpt_info (socket_schema.cpp).
#pragma once

#include <stdint.h>

namespace ckpt::socket {

inline constexpr char kSocketSection[] = "sockets";
inline constexpr uint32_t kSocketSectionVersion = 2;

// "sock.in.<ino>": what was in the receive queue of socket <ino>, copied
// without taking it out (UNIX sockets, UDP, and TCP connections one of
// whose ends was shut down): for a stream the bytes, for datagrams a
// sequence of DatagramHeader + address + data. The peer's new end (or the
// sender's restored socket) writes them into the new socket at restart.
inline constexpr char kInBytesPrefix[] = "sock.in.";
// "sock.out.<ino>": bytes socket <ino> had sent that its peer had not read
// yet (TCP inside the computation, drained at checkpoint). The socket's new
// incarnation writes them again at restart.
inline constexpr char kOutBytesPrefix[] = "sock.out.";

enum class SocketState : uint32_t {
  Unbound = 0,    // created, neither bound nor connected
  Bound = 1,      // bound to `local` (a UDP or UNIX datagram socket, or one not yet listening)
  Listening = 2,  // listen() was called: bound again and listening at restart
  Connected = 3,  // connected to `peer` (stream: an established connection)
};

enum class PeerKind : uint32_t {
  None = 0,     // not connected
  Inside = 1,   // the other end is a socket of this computation (`peer_ino`): re-made at restart
  Outside = 2,  // the other end is held by no process of the computation: comes back closed
  Pending = 3,  // TCP: the other end waits in the accept queue of a listening socket of the
                // computation (`peer` is that listener's address): connected to it again at restart
  Closed = 4,   // the other end was closed (end-of-file after the bytes still queued)
  Remote = 5,   // TCP: the other end is a socket of the computation on another host
                // (socket_remote.h): the restored process makes the connection again
  Absent = 6,   // TCP: the other end's process is in the computation but not in this
                // checkpoint (still joining it): the checkpoint fails, never saved so
};

// Shutdown bits (as sock_diag reports them).
inline constexpr uint32_t kShutRead = 1;
inline constexpr uint32_t kShutWrite = 2;

struct SocketOption {
  int32_t level;  // 0: unused slot
  int32_t name;
  uint32_t len;   // bytes of value used
  uint8_t value[16];
};
inline constexpr uint32_t kMaxOptions = 24;

struct SocketRecord {
  int32_t fd;
  uint32_t fd_flags;      // F_GETFD
  uint32_t status_flags;  // F_GETFL (O_NONBLOCK, O_ASYNC)
  int32_t family;         // AF_UNIX, AF_INET, AF_INET6
  int32_t type;           // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  int32_t protocol;
  uint32_t state;         // SocketState
  uint32_t peer_kind;     // PeerKind
  uint64_t ino;           // the socket's inode: one socket, however many descriptors hold it
  uint64_t peer_ino;      // the other end's inode (Inside; UNIX: also for Outside when known)
  uint32_t leader;        // 1: this descriptor speaks for the socket (queues saved here)
  uint32_t shutdown;      // kShutRead | kShutWrite of this end
  uint32_t peer_shutdown; // of the other end, when it is inside
  int32_t backlog;        // Listening
  uint32_t local_len;
  uint32_t peer_len;
  uint8_t local[128];     // sockaddr of getsockname
  uint8_t peer[128];      // sockaddr of getpeername (Connected)
  uint32_t has_in;        // section sock.in.<ino> exists
  uint32_t has_out;       // section sock.out.<ino> exists
  uint32_t in_count;      // datagrams in sock.in.<ino> (datagram sockets)
  uint32_t option_count;
  SocketOption options[kMaxOptions];
  int32_t sndbuf;  // SO_SNDBUF and SO_RCVBUF as the kernel reported them (autotuned or set):
  int32_t rcvbuf;  // a new connection gets buffers as large when its bytes in flight need them
};

struct SocketSectionHeader {
  uint32_t version;
  uint32_t count;  // SocketRecords that follow
};

// A datagram in sock.in.<ino>: this header, `addr_len` bytes of the
// sender's address, then `len` bytes of data.
struct DatagramHeader {
  uint32_t len;
  uint32_t addr_len;
};

}  // namespace ckpt::socket
