// The socket kind's checkpoint side (GUIDE §3.9). At PRE_CHECKPOINT it
// claims every UNIX, IPv4 and IPv6 socket of the process (the fd plugin then
// leaves them to it); at DRAIN, with every process of the computation
// frozen, it describes each one in section "sockets", finds out whether the
// other end of each connection belongs to the computation, and saves the
// bytes in flight:
//   - UNIX sockets, UDP, and TCP connections that are half closed: what
//     the receive queue holds, copied without taking it out (peek). A UNIX
//     socket has no send queue: everything written is in the peer's queue.
//   - TCP connections inside the computation: both ends take part in an
//     exchange through the connection itself (socket_drain.cpp), after
//     which each end holds the bytes it had sent that the other had not
//     read; they are saved with the sending end and written again at RESUME
//     and at restart.
#pragma once

namespace ckpt::socket {

// What the user chose (ckpt_launch --outside-connections, CKPT_OUTSIDE_CONNECTIONS).
struct SocketPolicy {
  bool fail_outside = false;  // a connection to outside the computation fails the checkpoint
};

// PRE_CHECKPOINT: claims the process's sockets.
void claim_sockets();
// DRAIN: describes and drains them; fails the checkpoint on what it cannot save.
void checkpoint_sockets(const SocketPolicy& policy);

}  // namespace ckpt::socket
