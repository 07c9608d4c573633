// Section "posix_timer" (plugins/timer/posix_timer_section.h) read back as
// ckpt_restart's check and ckpt_info read it (posix_timer_image.h): a sound
// section decodes to its timers; a malformed or crafted one is refused with
// its reason.
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>

#include <cstring>
#include <string>
#include <vector>

#include "posix_timer_image.h"
#include "section_schema.h"

namespace ckpt::timer {
namespace {

std::vector<uint8_t> bytes(std::vector<SavedPosixTimer> timers, uint32_t version = kPosixTimerSectionVersion) {
  PosixTimerSectionHeader h{version, static_cast<uint32_t>(timers.size())};
  std::vector<uint8_t> out(sizeof h + timers.size() * sizeof(SavedPosixTimer));
  std::memcpy(out.data(), &h, sizeof h);
  if (!timers.empty()) std::memcpy(out.data() + sizeof h, timers.data(), timers.size() * sizeof timers[0]);
  return out;
}

// A monotonic timer with a signal, a process CPU-time one (the kernel's id
// for CLOCK_PROCESS_CPUTIME_ID), and one signalling thread 4243.
std::vector<SavedPosixTimer> sound() {
  SavedPosixTimer mono{};
  mono.id = 0;
  mono.clock_id = CLOCK_MONOTONIC;
  mono.notify = SIGEV_SIGNAL;
  mono.signo = SIGRTMIN + 1;
  mono.value = 0x5e3a;
  mono.value_nsec = 4'000'000;
  mono.interval_nsec = 10'000'000;
  mono.overrun = 3;
  SavedPosixTimer cpu = mono;
  cpu.id = 1;
  cpu.clock_id = -6;
  cpu.cpu_owner = CpuClockOwner::Process;
  cpu.owner_vpid = 4242;
  SavedPosixTimer thread = mono;
  thread.id = 2;
  thread.clock_id = CLOCK_REALTIME;
  thread.notify = 4;  // SIGEV_THREAD_ID
  thread.target_vtid = 4243;
  return {mono, cpu, thread};
}

std::string why(const std::vector<uint8_t>& b) {
  std::vector<SavedPosixTimer> out;
  return read_posix_timer_section(b, out);
}

TEST(PosixTimerSection, ReadsAndDecodesWhatTheCheckpointWrites) {
  std::vector<uint8_t> b = bytes(sound());
  std::vector<SavedPosixTimer> out;
  ASSERT_EQ(read_posix_timer_section(b, out), "");
  EXPECT_EQ(out.size(), 3u);
  image::Json j = image::decode_section(kPosixTimerSection, image::Bytes(b.data(), b.size()));
  ASSERT_TRUE(j.contains("content")) << j.dump();
  const image::Json& t = j["content"]["timers"];
  EXPECT_EQ(t[0]["clock"], "CLOCK_MONOTONIC");
  EXPECT_EQ(t[0]["notify"], "SIGEV_SIGNAL");
  EXPECT_EQ(t[0]["value"], "0x5e3a");
  EXPECT_EQ(t[0]["armed"], true);
  EXPECT_EQ(t[0]["interval_nsec"], 10'000'000);
  EXPECT_EQ(t[0]["overrun"], 3);
  EXPECT_EQ(t[1]["clock"], "process 4242 cpu time (sched)");
  EXPECT_EQ(t[2]["notify"], "SIGEV_THREAD_ID");
  EXPECT_EQ(t[2]["target_tid"], 4243);
}

TEST(PosixTimerSection, RefusesAnotherVersionOrCountsItsBytesDoNotHold) {
  EXPECT_EQ(why(bytes(sound(), 2)), "version 2, this ckpt reads 1");
  std::vector<uint8_t> b = bytes(sound());
  b.resize(b.size() - 1);
  EXPECT_NE(why(b).find("bytes for 3 timers"), std::string::npos);
  EXPECT_NE(why(std::vector<uint8_t>(4)).find("truncated"), std::string::npos);
}

TEST(PosixTimerSection, RefusesFieldsNoTimerCouldHave) {
  auto with = [](auto change) {
    std::vector<SavedPosixTimer> t = sound();
    change(t[0]);
    return why(bytes(t));
  };
  EXPECT_EQ(with([](SavedPosixTimer& t) { t.notify = 6; }), "timer 0: notification 6");
  EXPECT_EQ(with([](SavedPosixTimer& t) { t.signo = 99; }), "timer 0: signal 99");
  EXPECT_EQ(with([](SavedPosixTimer& t) { t.value_nsec = 1'000'000'000; }), "timer 0: a time out of range");
  EXPECT_EQ(with([](SavedPosixTimer& t) { t.clock_id = -6; }), "timer 0: clock -6");
  EXPECT_EQ(with([](SavedPosixTimer& t) { t.cpu_owner = static_cast<CpuClockOwner>(9); }),
            "timer 0: CPU-time clock owner 9");
}

TEST(PosixTimerSection, DecoderShowsAMalformedSectionAsAnError) {
  std::vector<uint8_t> b = bytes(sound(), 7);
  image::Json j = image::decode_section(kPosixTimerSection, image::Bytes(b.data(), b.size()));
  EXPECT_EQ(j["error"], "section posix_timer: version 7, this ckpt reads 1") << j.dump();
}

}  // namespace
}  // namespace ckpt::timer
