// Section "mqueue" (plugins/mqueue/mqueue_section.h) read back as
// ckpt_restart and ckpt_info read it (mqueue_image.h): a sound section reads
// and decodes to its fields and messages; a malformed or crafted one is
// refused with its reason.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "mqueue_image.h"
#include "section_schema.h"

namespace ckpt::mqueue {
namespace {

constexpr int32_t kVpid = 4242;

struct Section {
  MqSectionHeader header{kMqueueSectionVersion, 0, 0, 0, 0};
  std::vector<MqDescriptor> descriptors;
  std::vector<MqQueue> queues;
  std::vector<uint8_t> messages;

  void add_message(MqQueue& q, uint32_t priority, const std::string& text) {
    if (q.byte_count == 0) q.first_byte = messages.size();
    MqMessage m{priority, static_cast<uint32_t>(text.size())};
    size_t at = messages.size(), padded = (text.size() + 7) & ~size_t{7};
    messages.resize(at + sizeof m + padded);
    std::memcpy(messages.data() + at, &m, sizeof m);
    std::memcpy(messages.data() + at + sizeof m, text.data(), text.size());
    q.byte_count += sizeof m + padded;
    ++q.curmsgs;
  }

  std::vector<uint8_t> bytes() {
    header.descriptor_count = static_cast<uint32_t>(descriptors.size());
    header.queue_count = static_cast<uint32_t>(queues.size());
    header.message_bytes = messages.size();
    std::vector<uint8_t> out(sizeof header);
    std::memcpy(out.data(), &header, sizeof header);
    auto add = [&](const void* p, size_t n) {
      size_t at = out.size();
      out.resize(at + n);
      if (n) std::memcpy(out.data() + at, p, n);
    };
    add(descriptors.data(), descriptors.size() * sizeof(MqDescriptor));
    add(queues.data(), queues.size() * sizeof(MqQueue));
    add(messages.data(), messages.size());
    return out;
  }
};

MqQueue queue(int32_t fd, const char* name) {
  MqQueue q{};
  q.queue_id = holder_key(kVpid, fd);
  std::strcpy(q.name, name);
  q.mode = 0600;
  q.maxmsg = 4;
  q.msgsize = 16;
  return q;
}

// fd 3 leads /jobs (two messages, a SIGEV_SIGNAL registration), fd 4 is a
// non-blocking write-only descriptor of it; fd 5 an unlinked empty queue.
Section sound() {
  Section s;
  s.descriptors.push_back({3, FD_CLOEXEC, O_RDONLY, 0, holder_key(kVpid, 3), holder_key(kVpid, 3)});
  s.descriptors.push_back({4, 0, O_WRONLY | O_NONBLOCK, 0, holder_key(kVpid, 3), holder_key(kVpid, 4)});
  s.descriptors.push_back({5, 0, O_RDWR, 0, holder_key(kVpid, 5), holder_key(kVpid, 5)});
  MqQueue jobs = queue(3, "/jobs");
  s.add_message(jobs, 7, "urgent");
  s.add_message(jobs, 1, "later, longer text");
  jobs.msgsize = 32;
  jobs.notify_registered = 1;
  jobs.notify_kind = SIGEV_SIGNAL;
  jobs.notify_signo = SIGUSR1;
  jobs.notify_vpid = kVpid;
  jobs.notify_fd = 3;
  jobs.notify_value = 0x2a;
  s.queues.push_back(jobs);
  MqQueue gone = queue(5, "/gone");
  gone.unlinked = 1;
  s.queues.push_back(gone);
  return s;
}

std::string why(Section& s) {
  std::vector<uint8_t> b = s.bytes();
  MqSectionData out;
  return read_mqueue_section(b, out);
}

TEST(MqueueSection, ReadsAndDecodesWhatTheCheckpointWrites) {
  Section s = sound();
  std::vector<uint8_t> b = s.bytes();
  MqSectionData out;
  ASSERT_EQ(read_mqueue_section(b, out), "");
  ASSERT_EQ(out.messages[0].size(), 2u);
  EXPECT_EQ(out.messages[0][1].priority, 1u);
  EXPECT_EQ(std::string(out.messages[0][1].bytes.begin(), out.messages[0][1].bytes.end()), "later, longer text");
  image::Json j = image::decode_section(kMqueueSection, image::Bytes(b.data(), b.size()));
  ASSERT_TRUE(j.contains("content")) << j.dump();
  const image::Json& c = j["content"];
  EXPECT_EQ(c["descriptors"][1]["access"], "O_WRONLY");
  EXPECT_EQ(c["descriptors"][1]["nonblock"], true);
  EXPECT_EQ(c["descriptors"][1]["queue_fd"], 3);
  EXPECT_EQ(c["queues"][0]["name"], "/jobs");
  EXPECT_EQ(c["queues"][0]["messages"][0]["bytes"], "757267656e74");
  EXPECT_EQ(c["queues"][0]["notify"]["kind"], "SIGEV_SIGNAL");
  EXPECT_EQ(c["queues"][0]["notify"]["signal"], "SIGUSR1");
  EXPECT_EQ(c["queues"][0]["notify"]["value"], "0x2a");
  EXPECT_EQ(c["queues"][1]["unlinked"], true);
  EXPECT_TRUE(c["queues"][1]["notify"].is_null());
}

TEST(MqueueSection, RefusesWhatIsShorterThanItsHeaderOrAnotherVersion) {
  std::vector<uint8_t> b(10);
  MqSectionData out;
  EXPECT_EQ(read_mqueue_section(b, out), "10 bytes, shorter than its 24-byte header");
  Section s = sound();
  s.header.version = 2;
  EXPECT_EQ(why(s), "has version 2, this ckpt reads version 1");
}

TEST(MqueueSection, RefusesSizesItsCountsDoNotMake) {
  Section s = sound();
  std::vector<uint8_t> b = s.bytes();
  b.pop_back();
  MqSectionData out;
  EXPECT_EQ(read_mqueue_section(b, out), "3 descriptors, 2 queues and 48 message bytes do not make 887 bytes");
}

TEST(MqueueSection, RefusesNamesMqOpenDoesNotTake) {
  for (const char* name : {"jobs", "/a/b", "/"}) {
    Section s = sound();
    std::strcpy(s.queues[0].name, name);
    EXPECT_NE(why(s).find("has a name mq_open does not take"), std::string::npos) << name;
  }
}

TEST(MqueueSection, RefusesMessagesBeyondTheQueuesLimitsOrOutOfOrder) {
  Section s = sound();
  s.queues[0].msgsize = 8;
  EXPECT_EQ(why(s), "queue /jobs: a message of 18 bytes exceeds msgsize 8");
  s = sound();
  s.queues[0].curmsgs = 3;
  EXPECT_EQ(why(s), "queue /jobs says 3 messages and has 2");
  s = sound();
  s.queues[0].curmsgs = 5;
  EXPECT_EQ(why(s), "queue /jobs holds 5 messages, maxmsg is 4");
  s = sound();
  MqMessage first;
  std::memcpy(&first, s.messages.data(), sizeof first);
  first.priority = 0;
  std::memcpy(s.messages.data(), &first, sizeof first);
  EXPECT_EQ(why(s), "queue /jobs: its messages are not in the order mq_receive gives them");
  s = sound();
  s.queues[0].byte_count += 8;
  EXPECT_EQ(why(s), "queue /jobs names message bytes beyond the section's 48");
}

TEST(MqueueSection, RefusesRegistrationsAndDescriptorsNoProcessCouldHave) {
  Section s = sound();
  s.queues[0].notify_signo = 99;
  EXPECT_EQ(why(s), "queue /jobs notifies with signal 99");
  s = sound();
  s.queues[0].notify_kind = 7;
  EXPECT_EQ(why(s), "queue /jobs has notification kind 7");
  s = sound();
  s.descriptors[1].fd = -5;
  EXPECT_EQ(why(s), "has descriptor number -5");
  s = sound();
  s.descriptors[1].fd = 3;
  EXPECT_EQ(why(s), "describes fd 3 twice");
  s = sound();
  s.queues[1].queue_id = holder_key(kVpid, 9);
  EXPECT_EQ(why(s), "queue /gone is led through fd 9, which it does not describe");
}

TEST(MqueueSection, DecoderShowsAMalformedSectionAsAnError) {
  Section s = sound();
  s.header.version = 7;
  std::vector<uint8_t> b = s.bytes();
  image::Json j = image::decode_section(kMqueueSection, image::Bytes(b.data(), b.size()));
  EXPECT_EQ(j["error"], "section mqueue: has version 7, this ckpt reads version 1") << j.dump();
}

}  // namespace
}  // namespace ckpt::mqueue
