// How the network shell (server.cpp) splits a peer's byte stream into
// messages: a MsgHeader, then exactly `payload_len` bytes. The rule that
// decides whether a header read from a peer is acceptable lives here,
// apart from the Asio reads, so that the fuzzer (tests/fuzz) applies the
// very rule the server does.
#pragma once

#include <cstdint>

#include "ckpt/protocol.h"

namespace ckpt::coord {

// Before its first message a connection is nobody's: it gets at most a
// greeting's worth of memory (issue 8: a peer that announces a 1 MiB
// message must not pin the coordinator's memory).
inline constexpr uint32_t kMaxFirstPayload = sizeof(proto::HelloPayload);

// Whether the coordinator reads the payload `h` announces: the magic and
// version are ours and the length is within bounds (tighter for a
// connection's first message).
inline bool header_acceptable(const proto::MsgHeader& h, bool first_message) {
  return proto::header_is_valid(h) && (!first_message || h.payload_len <= kMaxFirstPayload);
}

}  // namespace ckpt::coord
