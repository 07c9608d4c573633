// Decoders of the socket kind's sections (socket_section.h), for ckpt_info.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdio>

#include "section_schema.h"
#include "socket_address.h"
#include "socket_section.h"

namespace ckpt::image {
namespace {

using socket::DatagramHeader;
using socket::SocketRecord;

const char* family_name(int f) { return f == AF_UNIX ? "unix" : f == AF_INET ? "ipv4" : f == AF_INET6 ? "ipv6" : "?"; }
const char* type_name(int t) { return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "datagram" : t == SOCK_SEQPACKET ? "seqpacket" : "?"; }
const char* state_name(uint32_t s) {
  static const char* const kNames[] = {"unbound", "bound", "listening", "connected"};
  return s < 4 ? kNames[s] : "?";
}
const char* peer_name(uint32_t p) {
  static const char* const kNames[] = {"none", "inside", "outside", "pending", "closed", "remote"};
  return p < 6 ? kNames[p] : "?";
}

Json decode_sockets(std::string_view, Bytes bytes) {
  socket::SocketSectionHeader h;
  if (bytes.size() < sizeof h) throw SchemaError("sockets: too short");
  std::memcpy(&h, bytes.data(), sizeof h);
  check_version(h.version, socket::kSocketSectionVersion, "sockets");
  if (bytes.size() != sizeof h + uint64_t{h.count} * sizeof(SocketRecord))
    throw SchemaError("sockets: size does not match its " + std::to_string(h.count) + " records");
  Json list = Json::array();
  for (uint32_t i = 0; i < h.count; ++i) {
    SocketRecord r;
    std::memcpy(&r, bytes.data() + sizeof h + i * sizeof r, sizeof r);
    if (r.local_len > sizeof r.local || r.peer_len > sizeof r.peer || r.option_count > socket::kMaxOptions)
      throw SchemaError("sockets: record " + std::to_string(i) + " is malformed");
    Json options = Json::array();
    for (uint32_t k = 0; k < r.option_count; ++k)
      options.push_back({{"level", r.options[k].level},
                         {"name", r.options[k].name},
                         {"value", hex_bytes(Bytes(r.options[k].value, std::min<uint32_t>(r.options[k].len, 16)))}});
    list.push_back({{"fd", r.fd},
                    {"cloexec", (r.fd_flags & 1) != 0},
                    {"nonblocking", (r.status_flags & 04000) != 0},
                    {"family", family_name(r.family)},
                    {"type", type_name(r.type)},
                    {"state", state_name(r.state)},
                    {"inode", r.ino},
                    {"leader", r.leader != 0},
                    {"local", socket::address_text(r.family, r.local, r.local_len)},
                    {"peer", socket::address_text(r.family, r.peer, r.peer_len)},
                    {"peer_kind", peer_name(r.peer_kind)},
                    {"peer_inode", r.peer_ino},
                    {"shutdown", r.shutdown},
                    {"peer_shutdown", r.peer_shutdown},
                    {"queued_in", r.has_in != 0},
                    {"queued_out", r.has_out != 0},
                    {"datagrams_in", r.in_count},
                    {"backlog", r.backlog},
                    {"sndbuf", r.sndbuf},
                    {"rcvbuf", r.rcvbuf},
                    {"options", options}});
  }
  return {{"version", h.version}, {"sockets", list}};
}

// "sock.in.<ino>" / "sock.out.<ino>": a socket's bytes in flight; in a
// datagram socket's sock.in, a sequence of DatagramHeader, address, data.
Json decode_queue(std::string_view name, Bytes bytes) {
  std::string_view ino = name.substr(name.find_last_of('.') + 1);
  if (ino.empty() || ino.size() > 20 || ino.find_first_not_of("0123456789") != std::string_view::npos)
    throw SchemaError("the name does not end in a socket's inode number");
  Json out = {{"ino", std::stoull(std::string(ino))}, {"size", bytes.size()}};
  add_data(out, bytes, kDataShown);
  return out;
}

const SectionSchema kSocketsSchema{socket::kSocketSection, false, decode_sockets};
const SectionSchema kInSchema{socket::kInBytesPrefix, true, decode_queue};
const SectionSchema kOutSchema{socket::kOutBytesPrefix, true, decode_queue};
const SchemaRegistration kRegisteredSockets(kSocketsSchema);
const SchemaRegistration kRegisteredIn(kInSchema);
const SchemaRegistration kRegisteredOut(kOutSchema);

}  // namespace
}  // namespace ckpt::image
