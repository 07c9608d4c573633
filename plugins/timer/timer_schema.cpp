// Decoders of sections "timer" (libckpt/image/timer_section.h) and
// "posix_timer" (posix_timer_section.h), for ckpt_info.
#include <signal.h>
#include <time.h>

#include "posix_timer_image.h"
#include "section_schema.h"
#include "timer_section.h"

namespace ckpt::image {
namespace {

Json decode_timer(std::string_view, Bytes bytes) {
  auto t = read_exact<TimerSection>(bytes, "timer");
  check_version(t.version, kTimerSectionVersion, "timer");
  static constexpr const char* kWhich[kTimerCount] = {"real", "virtual", "prof"};
  Json timers = Json::array();
  for (uint32_t i = 0; i < kTimerCount; ++i) {
    const SavedItimer& s = t.timers[i];
    timers.push_back({{"which", kWhich[i]},
                      {"armed", s.value_sec != 0 || s.value_usec != 0},
                      {"value_sec", s.value_sec},
                      {"value_usec", s.value_usec},
                      {"interval_sec", s.interval_sec},
                      {"interval_usec", s.interval_usec}});
  }
  return {{"version", t.version}, {"timers", timers}};
}

const SectionSchema kTimerSchema{kTimerSection, false, decode_timer};
const SchemaRegistration kRegistered(kTimerSchema);

#ifndef SIGEV_THREAD_ID
constexpr int SIGEV_THREAD_ID = 4;
#endif

std::string clock_name(const timer::SavedPosixTimer& t) {
  using timer::CpuClockOwner;
  if (t.cpu_owner == CpuClockOwner::None) {
    switch (t.clock_id) {
      case CLOCK_REALTIME: return "CLOCK_REALTIME";
      case CLOCK_MONOTONIC: return "CLOCK_MONOTONIC";
      case CLOCK_BOOTTIME: return "CLOCK_BOOTTIME";
      case CLOCK_REALTIME_ALARM: return "CLOCK_REALTIME_ALARM";
      case CLOCK_BOOTTIME_ALARM: return "CLOCK_BOOTTIME_ALARM";
      case CLOCK_TAI: return "CLOCK_TAI";
      default: return "clock " + std::to_string(t.clock_id);
    }
  }
  static constexpr const char* kCounts[] = {"prof", "virt", "sched", "?"};
  return std::string(t.cpu_owner == CpuClockOwner::Thread ? "thread " : "process ") + std::to_string(t.owner_vpid) +
         " cpu time (" + kCounts[t.clock_id & 3] + ")";
}

std::string notify_name(int32_t notify) {
  std::string base;
  switch (notify & ~SIGEV_THREAD_ID) {
    case SIGEV_NONE: base = "SIGEV_NONE"; break;
    case SIGEV_SIGNAL: base = "SIGEV_SIGNAL"; break;
    case SIGEV_THREAD: base = "SIGEV_THREAD"; break;
    default: base = std::to_string(notify & ~SIGEV_THREAD_ID);
  }
  return notify & SIGEV_THREAD_ID ? "SIGEV_THREAD_ID" : base;
}

Json decode_posix_timer(std::string_view, Bytes bytes) {
  std::vector<timer::SavedPosixTimer> timers;
  std::string why = timer::read_posix_timer_section(bytes, timers);
  if (!why.empty()) throw SchemaError(why);
  Json out = Json::array();
  for (const timer::SavedPosixTimer& t : timers) {
    Json j = {{"id", t.id},
              {"clock", clock_name(t)},
              {"clock_id", t.clock_id},
              {"notify", notify_name(t.notify)},
              {"signal", t.signo},
              {"value", hex_string(t.value)},
              {"armed", t.value_sec != 0 || t.value_nsec != 0},
              {"value_sec", t.value_sec},
              {"value_nsec", t.value_nsec},
              {"interval_sec", t.interval_sec},
              {"interval_nsec", t.interval_nsec},
              {"overrun", t.overrun}};
    if (t.notify & SIGEV_THREAD_ID) j["target_tid"] = t.target_vtid;
    out.push_back(j);
  }
  return {{"version", timer::kPosixTimerSectionVersion}, {"timers", out}};
}

const SectionSchema kPosixTimerSchema{timer::kPosixTimerSection, false, decode_posix_timer};
const SchemaRegistration kPosixRegistered(kPosixTimerSchema);

}  // namespace
}  // namespace ckpt::image
