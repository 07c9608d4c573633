// The network shell around the Coordinator state machine: accepts
// connections, frames messages, runs timers and performs the actions the
// state machine asks for. Single-threaded on one io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <string>

#include "ckpt/auth.h"
#include "log.h"
#include "state_machine.h"

namespace ckpt::coord {

// Opens a TCP socket listening on every address (IPv6 dual-stack, else
// IPv4) at `port`, 0 picking a free one. Returns the fd, with `port` updated
// to the one bound, or -1 with a one-line `error`.
int open_listener(const std::string& address, uint16_t& port, std::string& error);

// Serves `listen_fd` until the state machine asks to exit or SIGINT/SIGTERM
// arrives. Every connection must prove it knows `secret` before the state
// machine hears of it. Returns the exit status; `asked_to_exit` tells whether
// the state machine ended it (rather than a signal).
int run_server(int listen_fd, Coordinator& coordinator, const auth::Secret& secret, bool& asked_to_exit);

}  // namespace ckpt::coord
