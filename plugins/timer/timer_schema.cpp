// Decoder of section "timer" (libckpt/image/timer_section.h), for ckpt_info.
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

}  // namespace
}  // namespace ckpt::image
