// TCP connections between processes of the computation on different hosts
// (socket_checkpoint.h). Nothing in this host's socket tables says that
// the other end of such a connection belongs to the computation, so every
// process shares the addresses of its connections through the coordinator
// (ckpt_share) at PRE_CHECKPOINT; at DRAIN a connection whose reversed
// addresses another process shared is "remote": it is drained by the same
// exchange as a connection on this host. A restart cannot make it in
// ckpt_restart, which sees one host only: the restored process makes it
// itself. At CKPT_EVENT_RESTART the end with the lower address listens on
// this host's address (ckpt_host_address) and shares where; at the RESUME
// that follows, the other end connects there, both put the new connection
// at their descriptor number and write again the bytes that were in flight.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "socket_section.h"

namespace ckpt::socket {

// An address in IPv6 form (IPv4 as ::ffff:a.b.c.d) and a port.
struct Endpoint {
  uint8_t addr[16];
  uint16_t port;  // host order
  uint16_t reserved;
};
Endpoint endpoint_of(const uint8_t* sockaddr, uint32_t len);
bool same_endpoint(const Endpoint& a, const Endpoint& b);
// A 64-bit digest of a connection seen from one end (local, then peer).
uint64_t connection_key(const Endpoint& local, const Endpoint& peer);

// A buffer (SO_SNDBUF or SO_RCVBUF) of `fd` at least `bytes` large, as far
// as net.core.[rw]mem_max lets it: bytes put back into a connection fill
// its buffers less densely than the kernel had packed them, and the writer
// writes them before the reader reads.
void make_room(int fd, int which, uint64_t bytes);

// PRE_CHECKPOINT: shares the addresses of this process's TCP connections.
void share_connections();
// DRAIN: whether a process taking part in this checkpoint shared the other
// end of connection `r` (on this host or another); its shutdown bits in
// *peer_shutdown. Only such an end answers the drain exchange.
bool peer_shared(const SocketRecord& r, uint32_t* peer_shutdown);
// Whether `r`'s other end is a loopback address (never on another host).
bool peer_is_loopback(const SocketRecord& r);

// DRAIN: remembers a remote connection this process speaks for (the memory
// is in the image), then the bytes it had sent that the other end had not read.
void forget_remote();
bool keep_remote(const SocketRecord& r);
bool keep_remote_bytes(uint64_t ino, const char* data, size_t len, uint64_t incoming);

// CKPT_EVENT_RESTART: listens where this end must, and shares where.
void remote_restarted();
// The CKPT_EVENT_RESUME after a restart: connects, accepts, puts each
// connection at its number and writes its bytes again.
void remote_reconnect();

}  // namespace ckpt::socket
