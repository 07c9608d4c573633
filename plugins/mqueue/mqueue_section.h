// The mqueue kind's image schema: section "mqueue", one per image of a
// process that holds POSIX message queue descriptors (mq_open).
//
//   MqSectionHeader
//   MqDescriptor[descriptor_count]  one per descriptor of the process
//   MqQueue[queue_count]            the queues this process leads (saved once for the computation)
//   message bytes                   message_bytes in all: per message an MqMessage, then its
//                                   bytes, padded to 8; each queue's run of messages in the
//                                   order mq_receive gave them (priority, then FIFO)
//
// Written by the checkpoint side (mqueue_save.cpp), read by the restart side
// (mqueue_restart.cpp, through mqueue_image.h) and decoded for ckpt_info
// (mqueue_schema.cpp).
#pragma once

#include <stdint.h>

namespace ckpt::mqueue {

inline constexpr char kMqueueSection[] = "mqueue";
inline constexpr uint32_t kMqueueSectionVersion = 1;
// The kernel's name limit (NAME_MAX), with the leading '/' and the NUL.
inline constexpr uint32_t kNameBytes = 258;

// A key of one descriptor of the computation: (vpid << 32 | fd).
inline uint64_t holder_key(int32_t vpid, int32_t fd) {
  return static_cast<uint64_t>(static_cast<uint32_t>(vpid)) << 32 | static_cast<uint32_t>(fd);
}

struct MqDescriptor {
  int32_t fd;
  uint32_t fd_flags;      // F_GETFD (FD_CLOEXEC)
  uint32_t status_flags;  // F_GETFL: O_RDONLY/O_WRONLY/O_RDWR, O_NONBLOCK
  uint32_t reserved;
  // The queue: the key of the descriptor its leader saved it through
  // (MqQueue::queue_id). Restart makes one queue per queue_id.
  uint64_t queue_id;
  // The open file description (kcmp KCMP_FILE): the key of the lowest
  // descriptor of the computation that shares it. One description per desc_id.
  uint64_t desc_id;
};

struct MqQueue {
  uint64_t queue_id;       // holder_key of the leader's descriptor (this process's)
  char name[kNameBytes];   // "/name" as mq_open took it
  uint16_t unlinked;       // 1: mq_unlink'ed and still open; restart makes it without a name
  uint32_t mode;           // permission bits
  uint32_t uid, gid;
  int64_t maxmsg, msgsize, curmsgs;  // mq_getattr
  uint64_t first_byte;     // its messages: [first_byte, first_byte + byte_count) of the message bytes
  uint64_t byte_count;
  // The mq_notify registration at checkpoint time, re-registered at restart
  // by process notify_vpid (which holds the queue as notify_fd).
  uint32_t notify_registered;  // 0 or 1
  int32_t notify_kind;         // SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD
  int32_t notify_signo;        // SIGEV_SIGNAL
  int32_t notify_vpid;
  int32_t notify_fd;
  uint32_t reserved;
  uint64_t notify_value;  // sigev_value (SIGEV_SIGNAL, SIGEV_THREAD)
  uint64_t notify_function;  // SIGEV_THREAD: the function's address in notify_vpid's memory
};

struct MqMessage {
  uint32_t priority;
  uint32_t length;
};

struct MqSectionHeader {
  uint32_t version;
  uint32_t descriptor_count;
  uint32_t queue_count;
  uint32_t reserved;
  uint64_t message_bytes;
};

}  // namespace ckpt::mqueue
