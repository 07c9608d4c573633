// Blocking client side of the wire protocol, for ckpt_command and the
// launcher's coordinator check. (libckpt has its own allocation-free client.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ckpt/protocol.h"

namespace ckpt::coord {

// Connects to host:port, trying every address the name resolves to. Returns
// the socket (close-on-exec), or -1 with `error` set to the cause of the last
// failure, e.g. "Connection refused".
int connect_to(const std::string& host, uint16_t port, std::string& error);

bool send_message(int fd, const proto::MsgHeader& header, std::string_view payload, std::string& error);
// Reads one whole message; "connection closed by the coordinator" on EOF.
bool recv_message(int fd, proto::MsgHeader& header, std::string& payload, std::string& error);

enum class ProbeResult { Listening, NotListening };
// Whether something accepts TCP connections on 127.0.0.1:port, in well under
// a millisecond when nothing listens: a non-blocking loopback connect, which
// the kernel refuses (or accepts) synchronously.
ProbeResult probe_local_port(uint16_t port);

// Whether `host` names this machine (localhost, a loopback address, or our
// hostname), i.e. a coordinator for it may be started here.
bool host_is_local(const std::string& host);

}  // namespace ckpt::coord
