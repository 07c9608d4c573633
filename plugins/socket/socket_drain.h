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

// RESUME: writes back what the exchanges took out, then forgets everything.
void refill_exchanged();
void forget_exchanged();

}  // namespace ckpt::socket
