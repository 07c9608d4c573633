// The network shell around the Coordinator state machine: accepts
// connections, frames messages, runs timers and performs the actions the
// state machine asks for. Single-threaded on one io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <string>

#include "log.h"
#include "state_machine.h"

namespace ckpt::coord {

// Opens a TCP socket listening on every address (IPv6 dual-stack, else
// IPv4) at `port`, 0 picking a free one. Returns the fd, with `port` updated
// to the one bound, or -1 with a one-line `error`.
int open_listener(const std::string& address, uint16_t& port, std::string& error);

// Serves `listen_fd` until the state machine asks to exit or SIGINT/SIGTERM
// arrives. Returns the exit status.
int run_server(int listen_fd, Coordinator& coordinator);

}  // namespace ckpt::coord
