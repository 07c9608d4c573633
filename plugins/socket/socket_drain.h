// The bytes in flight in sockets (socket_checkpoint.h): copied out of
// receive queues, or drained from TCP connections inside the computation by
// an exchange between their two ends, and put back at RESUME.
#pragma once

#include <stddef.h>

#include "socket_section.h"

namespace ckpt::socket {

// DRAIN, for a socket this process speaks for: copies its receive queue
// into section sock.in.<ino>, or registers it for the exchange. Returns null,
// or why the bytes cannot be saved.
const char* save_queues(SocketRecord& r);

// DRAIN, once every socket is registered: runs every exchange of this
// process at once (the other ends run theirs at the same time) and saves
// sock.out.<ino> for each. `records`: the section's records, for has_out.
// Returns null, or why it failed (naming the descriptor).
const char* run_exchanges(SocketRecord* records, uint32_t count, char* why, size_t why_cap);

// Writes `len` bytes that were in flight in TCP connection `fd` into it
// again, at RESUME, without waiting for the other end to read: the send
// buffer grows for what does not fit, and is then set to `size_after` (as
// SO_SNDBUF reports it), or back to its size if 0; a buffer that did not
// need to grow is left alone.
// Only when it cannot grow (net.core.wmem_max, without CAP_NET_ADMIN) does
// the rest wait for the other end to read, up to `timeout_ms`; what is
// still left then shuts the connection down (false): better a broken
// connection than a stream with a hole in it.
bool put_back_in_flight(int fd, const char* p, size_t len, long timeout_ms, int size_after);

// RESUME: writes back what the exchanges took out, then forgets everything.
void refill_exchanged();
void forget_exchanged();

}  // namespace ckpt::socket
