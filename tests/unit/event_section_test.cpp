// Section "event" (plugins/event/event_section.h) read back as ckpt_restart
// and ckpt_info read it (event_image.h): a sound section reads and decodes to
// its fields; a malformed or crafted one is refused with its reason, before
// anything is allocated for counts the bytes do not hold.
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/inotify.h>

#include <cstring>
#include <vector>

#include "event_image.h"
#include "section_schema.h"

namespace ckpt::event {
namespace {

struct Section {
  EventSectionHeader header{kEventSectionVersion, 0, 0, 0};
  std::vector<EventRecord> records;
  std::vector<EpollItem> items;
  std::vector<InotifyWatch> watches;

  std::vector<uint8_t> bytes() {
    header.record_count = static_cast<uint32_t>(records.size());
    header.item_count = static_cast<uint32_t>(items.size());
    header.watch_count = static_cast<uint32_t>(watches.size());
    std::vector<uint8_t> out(sizeof header);
    std::memcpy(out.data(), &header, sizeof header);
    auto add = [&](const auto& v) {
      size_t at = out.size();
      out.resize(at + v.size() * sizeof v[0]);
      if (!v.empty()) std::memcpy(out.data() + at, v.data(), v.size() * sizeof v[0]);
    };
    add(records);
    add(items);
    add(watches);
    return out;
  }
};

constexpr uint64_t kVpid = 4242;

EventRecord record(int32_t fd, EventKind kind, bool leader = true) {
  EventRecord r{};
  r.fd = fd;
  r.kind = kind;
  r.leader = leader;
  r.desc_id = kVpid << 32 | static_cast<uint32_t>(leader ? fd : 3);
  return r;
}

// An epoll instance (fd 3) watching an eventfd (fd 4, shared by its dup at
// fd 9), an inotify instance (fd 5) with one watch, a timerfd and a signalfd.
Section sound() {
  Section s;
  EventRecord epoll = record(3, EventKind::Epoll);
  epoll.item_count = 1;
  s.records.push_back(epoll);
  EventRecord counter = record(4, EventKind::Eventfd);
  counter.count = 7;
  counter.semaphore = 1;
  s.records.push_back(counter);
  EventRecord dup = record(9, EventKind::Eventfd, false);
  dup.desc_id = counter.desc_id;
  s.records.push_back(dup);
  EventRecord inotify = record(5, EventKind::Inotify);
  inotify.watch_count = 1;
  s.records.push_back(inotify);
  EventRecord timer = record(6, EventKind::Timerfd);
  timer.clock_id = CLOCK_REALTIME;
  timer.settime_flags = TFD_TIMER_ABSTIME;
  timer.value_sec = 1'800'000'000;
  timer.ticks = 2;
  s.records.push_back(timer);
  EventRecord signals = record(7, EventKind::Signalfd);
  signals.sigmask = 1u << (SIGUSR1 - 1);
  s.records.push_back(signals);
  s.items.push_back({4, EPOLLIN | EPOLLET, 0x5e3a, static_cast<int32_t>(kVpid), 4, 1038, 16});
  InotifyWatch w{};
  w.wd = 3;
  w.mask = IN_CREATE;
  std::strcpy(w.path, "/tmp/watched");
  s.watches.push_back(w);
  return s;
}

std::string why(Section s) {
  std::vector<uint8_t> b = s.bytes();
  EventSectionData out;
  return read_event_section(b, out);
}

std::string why(const std::vector<uint8_t>& b) {
  EventSectionData out;
  return read_event_section(b, out);
}

TEST(EventSection, ReadsAndDecodesWhatTheCheckpointWrites) {
  Section s = sound();
  std::vector<uint8_t> b = s.bytes();
  EventSectionData out;
  ASSERT_EQ(read_event_section(b, out), "");
  EXPECT_EQ(out.records.size(), 6u);
  image::Json j = image::decode_section(kEventSection, image::Bytes(b.data(), b.size()));
  ASSERT_TRUE(j.contains("content")) << j.dump();
  const image::Json& d = j["content"]["descriptors"];
  EXPECT_EQ(d[0]["kind"], "epoll");
  EXPECT_EQ(d[0]["watches"][0]["data"], "0x5e3a");
  EXPECT_EQ(d[0]["watches"][0]["event_names"], image::Json({"EPOLLIN", "EPOLLET"}));
  EXPECT_EQ(d[1]["count"], 7);
  EXPECT_EQ(d[1]["semaphore"], true);
  EXPECT_EQ(d[2]["leader"], false);
  EXPECT_EQ(d[2]["desc_id"], d[1]["desc_id"]);
  EXPECT_EQ(d[3]["watches"][0]["path"], "/tmp/watched");
  EXPECT_EQ(d[4]["clock"], "CLOCK_REALTIME");
  EXPECT_EQ(d[4]["absolute"], true);
  EXPECT_EQ(d[4]["ticks"], 2);
  EXPECT_EQ(d[5]["signals"], image::Json({"SIGUSR1"}));
}

TEST(EventSection, RefusesWhatIsShorterThanItsHeader) {
  EXPECT_EQ(why(std::vector<uint8_t>(10)), "10 bytes, shorter than its 16-byte header");
}

TEST(EventSection, RefusesAnotherVersion) {
  Section s = sound();
  s.header.version = 2;
  EXPECT_EQ(why(s), "has version 2, this ckpt reads version 1");
}

TEST(EventSection, RefusesCountsItsBytesDoNotHold) {
  std::vector<uint8_t> b = sound().bytes();
  b.resize(b.size() - 1);
  EXPECT_NE(why(b).find("need"), std::string::npos);
  // Huge counts in a 16-byte section: refused before anything is allocated.
  EventSectionHeader h{kEventSectionVersion, 0xffffffff, 0xffffffff, 0xffffffff};
  std::vector<uint8_t> huge(sizeof h);
  std::memcpy(huge.data(), &h, sizeof h);
  EXPECT_NE(why(huge).find("beyond any process's"), std::string::npos);
}

TEST(EventSection, RefusesBadDescriptorNumbersAndKinds) {
  Section s = sound();
  s.records[1].fd = -5;
  EXPECT_EQ(why(s), "has descriptor number -5");
  s = sound();
  s.records[1].kind = static_cast<EventKind>(9);
  EXPECT_EQ(why(s), "fd 4 has unknown kind 9");
  s = sound();
  s.records[2].fd = 4;
  EXPECT_EQ(why(s), "describes fd 4 twice");
  s = sound();
  s.records[1].desc_id = kVpid << 32 | 8;
  EXPECT_EQ(why(s), "fd 4 leads its object but its desc_id names fd 8");
}

TEST(EventSection, RefusesWatchesOutsideTheSectionOrOwnedTwice) {
  Section s = sound();
  s.records[0].first_item = 0xffffffff;
  EXPECT_EQ(why(s), "fd 3 names epoll watches 4294967295+1 of 1");
  s = sound();
  s.records[1].item_count = 1;
  EXPECT_EQ(why(s), "fd 4 has epoll watches but is not a leading epoll instance");
  s = sound();
  EventRecord second = record(8, EventKind::Epoll);
  second.item_count = 1;
  s.records.push_back(second);
  EXPECT_EQ(why(s), "epoll watch 0 belongs to two instances");
  s = sound();
  s.items[0].adder_vpid = 0;
  EXPECT_EQ(why(s), "epoll watch 0 is added by process 0");
}

TEST(EventSection, RefusesInotifyWatchesWithoutAPlainPath) {
  Section s = sound();
  std::strcpy(s.watches[0].path, "/tmp/../etc");
  EXPECT_NE(why(s).find("inotify watch 0 names /tmp/../etc, not an absolute path"), std::string::npos) << why(s);
  s = sound();
  std::memset(s.watches[0].path, 'a', sizeof s.watches[0].path);
  EXPECT_EQ(why(s), "inotify watch 0 has a path without an end");
  s = sound();
  s.watches.push_back(s.watches[0]);
  s.records[3].watch_count = 2;
  EXPECT_EQ(why(s), "fd 5 (inotify) has watch descriptor 3 twice");
}

TEST(EventSection, RefusesTimersNoTimerfdCouldHave) {
  Section s = sound();
  s.records[4].clock_id = 99;
  EXPECT_EQ(why(s), "fd 6 (timerfd) has clock 99, which timerfd_create does not take");
  s = sound();
  s.records[4].value_nsec = 1'000'000'000;
  EXPECT_EQ(why(s), "fd 6 (timerfd) has a negative or malformed time");
  s = sound();
  s.records[4].settime_flags = 4;
  EXPECT_EQ(why(s), "fd 6 (timerfd) has settime flags 4");
}

TEST(EventSection, DecoderShowsAMalformedSectionAsAnError) {
  Section s = sound();
  s.header.version = 7;
  std::vector<uint8_t> b = s.bytes();
  image::Json j = image::decode_section(kEventSection, image::Bytes(b.data(), b.size()));
  EXPECT_EQ(j["error"], "section event: has version 7, this ckpt reads version 1") << j.dump();
}

}  // namespace
}  // namespace ckpt::event
