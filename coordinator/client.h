// Blocking client side of the wire protocol, for ckpt_command and the
// launcher's coordinator check. (libckpt has its own allocation-free client.)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ckpt/auth.h"
#include "ckpt/protocol.h"

namespace ckpt::coord {

// Connects to host:port, trying every address the name resolves to. Returns
// the socket (close-on-exec), or -1 with `error` set to the cause of the last
// failure, e.g. "Connection refused".
int connect_to(const std::string& host, uint16_t port, std::string& error);

// Connects and authenticates (ckpt/auth.h): on this host, the coordinator
// must also run as this very user; then both sides prove they know
// `secret`. Returns the socket, or -1 with `error` set and `refused` telling
// a coordinator that is not ours (or refused our proof) from one that is not
// there. The coordinator's verdict on our proof may only come with the reply
// to the first request (recv_message turns AuthRefused into an error).
int connect_authenticated(const std::string& host, uint16_t port, const auth::Secret& secret, std::string& error,
                          bool& refused);

// The user owning the other end of a TCP connection over the loopback
// interface, from the kernel's socket table (SO_PEERCRED works on UNIX
// sockets only); nothing for a peer on another host or not found.
std::optional<uid_t> loopback_peer_uid(int fd);

// The other end of a loopback TCP connection as the kernel's socket table
// lists it: its owner and the inode of its socket (which names it among a
// process's descriptors, /proc/PID/fd/N -> "socket:[INODE]").
struct LoopbackPeer {
  uid_t uid;
  unsigned long inode;
};
std::optional<LoopbackPeer> loopback_peer(int fd);

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
