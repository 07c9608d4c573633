// The checkpoint thread's side of the wire protocol (coordinator/include/ckpt/protocol.h):
// a blocking TCP connection with whole-message send and receive, no allocation.
#pragma once

#include <netinet/in.h>
#include <stddef.h>

#include "ckpt/auth.h"
#include "ckpt/frozen_io.h"
#include "ckpt/protocol.h"

namespace ckpt {

class CoordClient {
 public:
  // Resolves host once (getaddrinfo allocates: call only while no thread is frozen).
  bool resolve(const char* host, uint16_t port);
  // Uses a numeric IPv4/IPv6 address; safe at any time.
  bool set_numeric(const char* host, uint16_t port);
  // Connects with a timeout and runs the handshake (ckpt/auth.h) over
  // `secret`; false if no coordinator answers or it does not prove it knows
  // the secret (then `why` says so; it may be null).
  bool connect(int timeout_ms, const auth::Secret& secret, char* why = nullptr, size_t why_cap = 0);
  void close();
  // Takes over a connection inherited across exec (already registered).
  void adopt(int fd);
  bool connected() const { return fd_ >= 0; }
  bool resolved() const { return addr_len_ != 0; }
  int fd() const { return fd_; }
  // The coordinator's resolved address.
  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&addr_); }
  socklen_t address_len() const { return addr_len_; }

  bool send(proto::MsgType type, uint64_t generation, uint64_t arg, const void* payload = nullptr,
            uint32_t payload_len = 0, int32_t status = 0);
  // Receives one message; payload is truncated to `cap` bytes, the rest
  // goes to `rest` if given (replacing what it held), else is discarded.
  bool receive(proto::MsgHeader& header, void* payload, size_t cap, MappedBuffer* rest = nullptr);

 private:
  bool read_all(void* buf, size_t len);
  int fd_ = -1;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
};

}  // namespace ckpt
