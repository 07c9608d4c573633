// Decoder of section "mqueue" (mqueue_section.h), for ckpt_info: one entry
// per descriptor (number, flags, queue, description), and the queues this
// image leads with their attributes, registration and messages.
#include <fcntl.h>

#include <cinttypes>
#include <cstdio>

#include "mqueue_image.h"
#include "section_schema.h"

namespace ckpt::image {
namespace {

using mqueue::Message;
using mqueue::MqDescriptor;
using mqueue::MqQueue;

std::string key_hex(uint64_t key) {
  char buf[24];
  snprintf(buf, sizeof buf, "%016" PRIx64, key);
  return buf;
}

const char* access_name(uint32_t flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return "O_RDONLY";
    case O_WRONLY: return "O_WRONLY";
  }
  return "O_RDWR";
}

Json descriptor_json(const MqDescriptor& d) {
  return {{"fd", d.fd},
          {"access", access_name(d.status_flags)},
          {"nonblock", (d.status_flags & O_NONBLOCK) != 0},
          {"cloexec", (d.fd_flags & FD_CLOEXEC) != 0},
          {"queue_id", key_hex(d.queue_id)},
          {"queue_vpid", static_cast<int32_t>(d.queue_id >> 32)},
          {"queue_fd", static_cast<int32_t>(d.queue_id & 0xffffffff)},
          {"desc_id", key_hex(d.desc_id)}};
}

Json queue_json(const MqQueue& q, const std::vector<Message>& messages) {
  Json list = Json::array();
  for (const Message& m : messages)
    list.push_back({{"priority", m.priority}, {"length", m.bytes.size()}, {"bytes", hex_bytes(m.bytes)}});
  Json out = {{"queue_id", key_hex(q.queue_id)},
              {"name", fixed_string(q.name)},
              {"unlinked", q.unlinked != 0},
              {"mode", octal_string(q.mode)},
              {"uid", q.uid},
              {"gid", q.gid},
              {"maxmsg", q.maxmsg},
              {"msgsize", q.msgsize},
              {"curmsgs", q.curmsgs},
              {"messages", list}};
  if (!q.notify_registered) {
    out["notify"] = nullptr;
    return out;
  }
  Json notify = {{"kind", mqueue::notify_name(q.notify_kind)}, {"vpid", q.notify_vpid}, {"fd", q.notify_fd},
                 {"value", hex_string(q.notify_value)}};
  if (q.notify_kind == SIGEV_SIGNAL) {
    notify["signo"] = q.notify_signo;
    notify["signal"] = signal_names(uint64_t{1} << (q.notify_signo - 1))[0];
  }
  if (q.notify_kind == SIGEV_THREAD) notify["function"] = hex_string(q.notify_function);
  out["notify"] = notify;
  return out;
}

Json decode_mqueue(std::string_view, Bytes bytes) {
  mqueue::MqSectionData s;
  std::string why = mqueue::read_mqueue_section(bytes, s);
  if (!why.empty()) throw SchemaError(why);
  Json descriptors = Json::array(), queues = Json::array();
  for (const MqDescriptor& d : s.descriptors) descriptors.push_back(descriptor_json(d));
  for (size_t i = 0; i < s.queues.size(); ++i) queues.push_back(queue_json(s.queues[i], s.messages[i]));
  return {{"version", s.header.version},
          {"count", s.header.descriptor_count},
          {"message_bytes", s.header.message_bytes},
          {"descriptors", descriptors},
          {"queues", queues}};
}

const SectionSchema kMqueueSchema{mqueue::kMqueueSection, false, decode_mqueue};
const SchemaRegistration kRegistered(kMqueueSchema);

}  // namespace
}  // namespace ckpt::image
