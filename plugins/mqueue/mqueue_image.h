// Section "mqueue" (mqueue_section.h) read back and checked, for the tools:
// ckpt_restart's mqueue kind and ckpt_info's decoder take a section through
// read_mqueue_section() and nothing else, so both refuse the same malformed
// images with the same reason (images can be crafted: GUIDE §3.11).
#pragma once

#include <fcntl.h>
#include <signal.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "mqueue_section.h"

namespace ckpt::mqueue {

struct Message {
  uint32_t priority;
  std::span<const uint8_t> bytes;
};

struct MqSectionData {
  MqSectionHeader header{};
  std::vector<MqDescriptor> descriptors;
  std::vector<MqQueue> queues;
  std::vector<std::vector<Message>> messages;  // by queue; spans into the section's bytes
};

// Bounds no real section reaches; anything beyond is a crafted image.
inline constexpr uint32_t kMaxDescriptors = 1u << 20;
inline constexpr uint32_t kMaxQueues = 1u << 16;
inline constexpr int32_t kMaxFd = 1 << 30;
inline constexpr int64_t kMaxMsgsize = 1 << 24;  // the kernel's HARD_MSGSIZEMAX
inline constexpr int64_t kMaxMaxmsg = 65536;     // HARD_MSGMAX
inline constexpr uint32_t kMaxPriority = 32768;  // MQ_PRIO_MAX

inline const char* notify_name(int32_t kind) {
  switch (kind) {
    case SIGEV_SIGNAL: return "SIGEV_SIGNAL";
    case SIGEV_NONE: return "SIGEV_NONE";
    case SIGEV_THREAD: return "SIGEV_THREAD";
  }
  return nullptr;
}

namespace detail {

inline std::string check_descriptor(const MqDescriptor& d) {
  const std::string at = "fd " + std::to_string(d.fd);
  if (d.fd < 0 || d.fd >= kMaxFd) return "has descriptor number " + std::to_string(d.fd);
  if ((d.status_flags & O_ACCMODE) == O_ACCMODE) return at + " has access mode 3";
  if (d.fd_flags & ~uint32_t{FD_CLOEXEC}) return at + " has descriptor flags " + std::to_string(d.fd_flags);
  return "";
}

inline std::string check_queue(const MqQueue& q, uint64_t message_bytes) {
  if (!memchr(q.name, '\0', sizeof q.name)) return "a queue has a name without an end";
  const std::string at = "queue " + std::string(q.name);
  const size_t len = strlen(q.name);
  if (len < 2 || q.name[0] != '/' || strchr(q.name + 1, '/') || len > 256)
    return at + " has a name mq_open does not take (one '/', then 1 to 255 characters without '/')";
  if (q.unlinked > 1) return at + " has unlinked " + std::to_string(q.unlinked);
  if (q.mode & ~07777u) return at + " has mode " + std::to_string(q.mode);
  if (q.maxmsg < 1 || q.maxmsg > kMaxMaxmsg || q.msgsize < 1 || q.msgsize > kMaxMsgsize)
    return at + " has maxmsg " + std::to_string(q.maxmsg) + " and msgsize " + std::to_string(q.msgsize) +
           ", beyond the kernel's limits";
  if (q.curmsgs < 0 || q.curmsgs > q.maxmsg)
    return at + " holds " + std::to_string(q.curmsgs) + " messages, maxmsg is " + std::to_string(q.maxmsg);
  if (q.first_byte > message_bytes || q.byte_count > message_bytes - q.first_byte)
    return at + " names message bytes beyond the section's " + std::to_string(message_bytes);
  if (q.notify_registered > 1) return at + " has notify_registered " + std::to_string(q.notify_registered);
  if (q.notify_registered) {
    if (!notify_name(q.notify_kind)) return at + " has notification kind " + std::to_string(q.notify_kind);
    if (q.notify_kind == SIGEV_SIGNAL && (q.notify_signo < 1 || q.notify_signo > 64))
      return at + " notifies with signal " + std::to_string(q.notify_signo);
    if (q.notify_vpid <= 0 || q.notify_fd < 0 || q.notify_fd >= kMaxFd)
      return at + " is to be registered by process " + std::to_string(q.notify_vpid) + " through fd " +
             std::to_string(q.notify_fd);
  }
  return "";
}

// The messages of `q`: exactly curmsgs of them, each within msgsize.
inline std::string read_messages(const MqQueue& q, std::span<const uint8_t> all, std::vector<Message>& out) {
  const std::string at = "queue " + std::string(q.name);
  std::span<const uint8_t> rest = all.subspan(q.first_byte, q.byte_count);
  while (!rest.empty()) {
    if (rest.size() < sizeof(MqMessage)) return at + ": a message header is cut short";
    MqMessage m;
    std::memcpy(&m, rest.data(), sizeof m);
    const uint64_t padded = (uint64_t{m.length} + 7) & ~uint64_t{7};
    if (m.priority >= kMaxPriority) return at + ": a message has priority " + std::to_string(m.priority);
    if (m.length > static_cast<uint64_t>(q.msgsize))
      return at + ": a message of " + std::to_string(m.length) + " bytes exceeds msgsize " + std::to_string(q.msgsize);
    if (rest.size() - sizeof m < padded) return at + ": a message of " + std::to_string(m.length) + " bytes is cut short";
    if (!out.empty() && out.back().priority < m.priority)
      return at + ": its messages are not in the order mq_receive gives them";
    out.push_back({m.priority, rest.subspan(sizeof m, m.length)});
    rest = rest.subspan(sizeof m + padded);
  }
  if (out.size() != static_cast<uint64_t>(q.curmsgs))
    return at + " says " + std::to_string(q.curmsgs) + " messages and has " + std::to_string(out.size());
  return "";
}

}  // namespace detail

// Reads section "mqueue" into `out`. Returns "" or the reason it is
// malformed (one line, without the section's name).
inline std::string read_mqueue_section(std::span<const uint8_t> bytes, MqSectionData& out) {
  if (bytes.size() < sizeof(MqSectionHeader))
    return std::to_string(bytes.size()) + " bytes, shorter than its " + std::to_string(sizeof(MqSectionHeader)) +
           "-byte header";
  MqSectionHeader& h = out.header;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.version != kMqueueSectionVersion)
    return "has version " + std::to_string(h.version) + ", this ckpt reads version " +
           std::to_string(kMqueueSectionVersion);
  if (h.descriptor_count > kMaxDescriptors || h.queue_count > kMaxQueues)
    return "counts " + std::to_string(h.descriptor_count) + "/" + std::to_string(h.queue_count) +
           " are beyond any process's";
  const uint64_t fixed = sizeof h + uint64_t{h.descriptor_count} * sizeof(MqDescriptor) +
                         uint64_t{h.queue_count} * sizeof(MqQueue);
  if (h.message_bytes > bytes.size() || bytes.size() - h.message_bytes != fixed)
    return std::to_string(h.descriptor_count) + " descriptors, " + std::to_string(h.queue_count) + " queues and " +
           std::to_string(h.message_bytes) + " message bytes do not make " + std::to_string(bytes.size()) + " bytes";
  const uint8_t* p = bytes.data() + sizeof h;
  out.descriptors.resize(h.descriptor_count);
  if (h.descriptor_count) std::memcpy(out.descriptors.data(), p, h.descriptor_count * sizeof(MqDescriptor));
  p += h.descriptor_count * sizeof(MqDescriptor);
  out.queues.resize(h.queue_count);
  if (h.queue_count) std::memcpy(out.queues.data(), p, h.queue_count * sizeof(MqQueue));
  p += h.queue_count * sizeof(MqQueue);
  std::span<const uint8_t> message_bytes(p, h.message_bytes);

  std::set<int32_t> fds;
  for (const MqDescriptor& d : out.descriptors) {
    if (std::string why = detail::check_descriptor(d); !why.empty()) return why;
    if (!fds.insert(d.fd).second) return "describes fd " + std::to_string(d.fd) + " twice";
  }
  std::set<uint64_t> ids;
  out.messages.resize(h.queue_count);
  for (uint32_t i = 0; i < h.queue_count; ++i) {
    const MqQueue& q = out.queues[i];
    if (std::string why = detail::check_queue(q, h.message_bytes); !why.empty()) return why;
    if (!ids.insert(q.queue_id).second) return "describes queue " + std::string(q.name) + " twice";
    if (!fds.count(static_cast<int32_t>(q.queue_id & 0xffffffff)))
      return "queue " + std::string(q.name) + " is led through fd " +
             std::to_string(static_cast<int32_t>(q.queue_id & 0xffffffff)) + ", which it does not describe";
    if (std::string why = detail::read_messages(q, message_bytes, out.messages[i]); !why.empty()) return why;
  }
  return "";
}

}  // namespace ckpt::mqueue
