// Decoder of section "event" (event_section.h), for ckpt_info: one entry per
// descriptor, with what its kind saved (a counter, a timer, a mask, an
// interest list, watches), and which entry leads a shared object.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <time.h>

#include <cinttypes>
#include <cstdio>

#include "event_image.h"
#include "section_schema.h"

namespace ckpt::image {
namespace {

using event::EpollItem;
using event::EventKind;
using event::EventRecord;
using event::InotifyWatch;

template <size_t N>
Json bit_names(uint64_t bits, const std::pair<uint64_t, const char*> (&names)[N]) {
  Json out = Json::array();
  for (auto [bit, name] : names)
    if (bits & bit) {
      out.push_back(name);
      bits &= ~bit;
    }
  if (bits) out.push_back(hex_string(bits));
  return out;
}

Json epoll_events(uint32_t events) {
  static constexpr std::pair<uint64_t, const char*> kNames[] = {
      {EPOLLIN, "EPOLLIN"},           {EPOLLPRI, "EPOLLPRI"},         {EPOLLOUT, "EPOLLOUT"},
      {EPOLLERR, "EPOLLERR"},         {EPOLLHUP, "EPOLLHUP"},         {EPOLLRDNORM, "EPOLLRDNORM"},
      {EPOLLRDBAND, "EPOLLRDBAND"},   {EPOLLWRNORM, "EPOLLWRNORM"},   {EPOLLWRBAND, "EPOLLWRBAND"},
      {EPOLLMSG, "EPOLLMSG"},         {EPOLLRDHUP, "EPOLLRDHUP"},     {EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE"},
      {EPOLLWAKEUP, "EPOLLWAKEUP"},   {EPOLLONESHOT, "EPOLLONESHOT"}, {EPOLLET, "EPOLLET"}};
  return bit_names(events, kNames);
}

Json inotify_mask(uint32_t mask) {
  static constexpr std::pair<uint64_t, const char*> kNames[] = {
      {IN_ACCESS, "IN_ACCESS"},         {IN_MODIFY, "IN_MODIFY"},           {IN_ATTRIB, "IN_ATTRIB"},
      {IN_CLOSE_WRITE, "IN_CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "IN_CLOSE_NOWRITE"}, {IN_OPEN, "IN_OPEN"},
      {IN_MOVED_FROM, "IN_MOVED_FROM"}, {IN_MOVED_TO, "IN_MOVED_TO"},       {IN_CREATE, "IN_CREATE"},
      {IN_DELETE, "IN_DELETE"},         {IN_DELETE_SELF, "IN_DELETE_SELF"}, {IN_MOVE_SELF, "IN_MOVE_SELF"},
      {IN_EXCL_UNLINK, "IN_EXCL_UNLINK"}, {IN_ONESHOT, "IN_ONESHOT"}};
  return bit_names(mask, kNames);
}

std::string clock_name(int32_t clock) {
  switch (clock) {
    case CLOCK_REALTIME: return "CLOCK_REALTIME";
    case CLOCK_MONOTONIC: return "CLOCK_MONOTONIC";
    case CLOCK_BOOTTIME: return "CLOCK_BOOTTIME";
    case CLOCK_REALTIME_ALARM: return "CLOCK_REALTIME_ALARM";
    case CLOCK_BOOTTIME_ALARM: return "CLOCK_BOOTTIME_ALARM";
  }
  return std::to_string(clock);
}

std::string desc_hex(uint64_t desc_id) {
  char buf[24];
  snprintf(buf, sizeof buf, "%016" PRIx64, desc_id);
  return buf;
}

Json item_json(const EpollItem& it) {
  return {{"tfd", it.tfd},
          {"events", hex_string(it.events)},
          {"event_names", epoll_events(it.events)},
          {"data", hex_string(it.data)},
          {"adder_vpid", it.adder_vpid},
          {"via_fd", it.via_fd},
          {"target_ino", it.target_ino},
          {"target_dev", it.target_dev}};
}

Json watch_json(const InotifyWatch& w) {
  return {{"wd", w.wd},
          {"path", fixed_string(w.path)},
          {"mask", hex_string(w.mask)},
          {"mask_names", inotify_mask(w.mask)},
          {"ino", w.ino},
          {"dev", w.dev}};
}

Json record_json(const EventRecord& r, const event::EventSectionData& s) {
  Json out = {{"fd", r.fd},
              {"kind", event::kind_name(r.kind)},
              {"cloexec", (r.fd_flags & FD_CLOEXEC) != 0},
              {"nonblock", (r.status_flags & O_NONBLOCK) != 0},
              {"desc_id", desc_hex(r.desc_id)},
              {"desc_vpid", static_cast<int32_t>(r.desc_id >> 32)},
              {"desc_fd", static_cast<int32_t>(r.desc_id & 0xffffffff)},
              {"leader", r.leader != 0}};
  if (!r.leader) return out;
  switch (r.kind) {
    case EventKind::Eventfd:
      out["count"] = r.count;
      out["semaphore"] = r.semaphore != 0;
      break;
    case EventKind::Timerfd:
      out["clock"] = clock_name(r.clock_id);
      out["absolute"] = (r.settime_flags & TFD_TIMER_ABSTIME) != 0;
      out["cancel_on_set"] = (r.settime_flags & TFD_TIMER_CANCEL_ON_SET) != 0;
      out["armed"] = r.value_sec != 0 || r.value_nsec != 0;
      out["value_sec"] = r.value_sec;
      out["value_nsec"] = r.value_nsec;
      out["interval_sec"] = r.interval_sec;
      out["interval_nsec"] = r.interval_nsec;
      out["ticks"] = r.ticks;
      break;
    case EventKind::Signalfd:
      out["sigmask"] = hex_string(r.sigmask);
      out["signals"] = signal_names(r.sigmask);
      break;
    case EventKind::Epoll: {
      Json items = Json::array();
      for (uint32_t i = r.first_item; i < r.first_item + r.item_count; ++i) items.push_back(item_json(s.items[i]));
      out["watches"] = items;
      break;
    }
    case EventKind::Inotify: {
      Json watches = Json::array();
      for (uint32_t i = r.first_watch; i < r.first_watch + r.watch_count; ++i) watches.push_back(watch_json(s.watches[i]));
      out["queued_bytes"] = r.queued_bytes;
      out["watches"] = watches;
      break;
    }
  }
  return out;
}

Json decode_event(std::string_view, Bytes bytes) {
  event::EventSectionData s;
  std::string why = event::read_event_section(bytes, s);
  if (!why.empty()) throw SchemaError(why);
  Json descriptors = Json::array();
  for (const EventRecord& r : s.records) descriptors.push_back(record_json(r, s));
  return {{"version", s.header.version},
          {"count", s.header.record_count},
          {"epoll_watches", s.header.item_count},
          {"inotify_watches", s.header.watch_count},
          {"descriptors", descriptors}};
}

const SectionSchema kEventSchema{event::kEventSection, false, decode_event};
const SchemaRegistration kRegistered(kEventSchema);

}  // namespace
}  // namespace ckpt::image
