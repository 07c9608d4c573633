// Section "event" (event_section.h) read back and checked, for the tools:
// ckpt_restart's event kinds and ckpt_info's decoder take a section through
// read_event_section() and nothing else, so both refuse the same malformed
// images with the same reason (images can be crafted: GUIDE §3.11).
#pragma once

#include <signal.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <time.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "event_section.h"
#include "image_verify.h"

namespace ckpt::event {

struct EventSectionData {
  EventSectionHeader header{};
  std::vector<EventRecord> records;
  std::vector<EpollItem> items;
  std::vector<InotifyWatch> watches;
};

// Bounds no real section reaches; anything beyond is a crafted image.
inline constexpr uint32_t kMaxRecords = 1u << 20;
inline constexpr uint32_t kMaxItems = 1u << 22;
inline constexpr uint32_t kMaxWatches = 1u << 20;
inline constexpr int32_t kMaxFd = 1 << 30;

inline const char* kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::Eventfd: return "eventfd";
    case EventKind::Timerfd: return "timerfd";
    case EventKind::Signalfd: return "signalfd";
    case EventKind::Epoll: return "epoll";
    case EventKind::Inotify: return "inotify";
  }
  return nullptr;
}

namespace detail {

inline std::string fd_text(const EventRecord& r) { return "fd " + std::to_string(r.fd); }

inline bool valid_time(int64_t sec, int64_t nsec) { return sec >= 0 && nsec >= 0 && nsec < 1'000'000'000; }

// "" if `r` is sound on its own, else why not.
inline std::string check_record(const EventRecord& r, const EventSectionHeader& h) {
  const std::string fd = fd_text(r);
  if (r.fd < 0 || r.fd >= kMaxFd) return "has descriptor number " + std::to_string(r.fd);
  if (!kind_name(r.kind)) return fd + " has unknown kind " + std::to_string(static_cast<uint32_t>(r.kind));
  if (r.leader > 1) return fd + " has leader " + std::to_string(r.leader) + " (0 or 1)";
  if (r.leader && static_cast<int32_t>(r.desc_id & 0xffffffff) != r.fd)
    return fd + " leads its object but its desc_id names fd " + std::to_string(static_cast<int32_t>(r.desc_id & 0xffffffff));
  bool epoll = r.kind == EventKind::Epoll, inotify = r.kind == EventKind::Inotify;
  if ((!epoll || !r.leader) && (r.item_count || r.first_item))
    return fd + " has epoll watches but is not a leading epoll instance";
  if ((!inotify || !r.leader) && (r.watch_count || r.first_watch))
    return fd + " has inotify watches but is not a leading inotify instance";
  if (uint64_t{r.first_item} + r.item_count > h.item_count)
    return fd + " names epoll watches " + std::to_string(r.first_item) + "+" + std::to_string(r.item_count) +
           " of " + std::to_string(h.item_count);
  if (uint64_t{r.first_watch} + r.watch_count > h.watch_count)
    return fd + " names inotify watches " + std::to_string(r.first_watch) + "+" + std::to_string(r.watch_count) +
           " of " + std::to_string(h.watch_count);
  if (!r.leader) return "";
  switch (r.kind) {
    case EventKind::Eventfd:
      if (r.semaphore > 1) return fd + " (eventfd) has semaphore " + std::to_string(r.semaphore);
      if (r.count == ~uint64_t{0}) return fd + " (eventfd) has a counter beyond 0xfffffffffffffffe";
      break;
    case EventKind::Timerfd:
      if (r.clock_id != CLOCK_REALTIME && r.clock_id != CLOCK_MONOTONIC && r.clock_id != CLOCK_BOOTTIME &&
          r.clock_id != CLOCK_REALTIME_ALARM && r.clock_id != CLOCK_BOOTTIME_ALARM)
        return fd + " (timerfd) has clock " + std::to_string(r.clock_id) + ", which timerfd_create does not take";
      if (r.settime_flags & ~uint32_t{TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET})
        return fd + " (timerfd) has settime flags " + std::to_string(r.settime_flags);
      if (!valid_time(r.value_sec, r.value_nsec) || !valid_time(r.interval_sec, r.interval_nsec))
        return fd + " (timerfd) has a negative or malformed time";
      break;
    default:
      break;
  }
  return "";
}

inline std::string check_item(const EpollItem& it, uint32_t index) {
  const std::string at = "epoll watch " + std::to_string(index);
  if (it.tfd < 0 || it.tfd >= kMaxFd) return at + " has descriptor number " + std::to_string(it.tfd);
  if (it.via_fd < 0 || it.via_fd >= kMaxFd) return at + " is added through descriptor " + std::to_string(it.via_fd);
  if (it.adder_vpid <= 0) return at + " is added by process " + std::to_string(it.adder_vpid);
  return "";
}

inline std::string check_watch(const InotifyWatch& w, uint32_t index) {
  const std::string at = "inotify watch " + std::to_string(index);
  if (w.wd <= 0) return at + " has watch descriptor " + std::to_string(w.wd);
  if (!memchr(w.path, '\0', sizeof w.path)) return at + " has a path without an end";
  if (!image::is_plain_path(w.path)) return at + " names " + std::string(w.path) + ", not " + image::kPlainPathRule;
  if (!(w.mask & IN_ALL_EVENTS)) return at + " (" + w.path + ") watches no event";
  return "";
}

}  // namespace detail

// Reads section "event" into `out`. Returns "" or the reason it is malformed
// (one line, without the section's name).
inline std::string read_event_section(std::span<const uint8_t> bytes, EventSectionData& out) {
  if (bytes.size() < sizeof(EventSectionHeader))
    return std::to_string(bytes.size()) + " bytes, shorter than its " + std::to_string(sizeof(EventSectionHeader)) +
           "-byte header";
  EventSectionHeader& h = out.header;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.version != kEventSectionVersion)
    return "has version " + std::to_string(h.version) + ", this ckpt reads version " +
           std::to_string(kEventSectionVersion);
  if (h.record_count > kMaxRecords || h.item_count > kMaxItems || h.watch_count > kMaxWatches)
    return "counts " + std::to_string(h.record_count) + "/" + std::to_string(h.item_count) + "/" +
           std::to_string(h.watch_count) + " are beyond any process's";
  const uint64_t want = sizeof h + uint64_t{h.record_count} * sizeof(EventRecord) +
                        uint64_t{h.item_count} * sizeof(EpollItem) + uint64_t{h.watch_count} * sizeof(InotifyWatch);
  if (bytes.size() != want)
    return std::to_string(h.record_count) + " descriptors, " + std::to_string(h.item_count) + " epoll and " +
           std::to_string(h.watch_count) + " inotify watches need " + std::to_string(want) + " bytes, it has " +
           std::to_string(bytes.size());
  const uint8_t* p = bytes.data() + sizeof h;
  auto take = [&](auto& vec, uint32_t n) {
    vec.resize(n);
    if (n) std::memcpy(vec.data(), p, n * sizeof vec[0]);
    p += n * sizeof vec[0];
  };
  take(out.records, h.record_count);
  take(out.items, h.item_count);
  take(out.watches, h.watch_count);

  std::set<int32_t> fds;
  for (const EventRecord& r : out.records) {
    if (std::string why = detail::check_record(r, h); !why.empty()) return why;
    if (!fds.insert(r.fd).second) return "describes fd " + std::to_string(r.fd) + " twice";
  }
  for (uint32_t i = 0; i < h.item_count; ++i)
    if (std::string why = detail::check_item(out.items[i], i); !why.empty()) return why;
  for (uint32_t i = 0; i < h.watch_count; ++i)
    if (std::string why = detail::check_watch(out.watches[i], i); !why.empty()) return why;
  // Each watch belongs to one instance, whose watch descriptors differ.
  std::vector<uint8_t> owned_items(h.item_count), owned_watches(h.watch_count);
  for (const EventRecord& r : out.records) {
    for (uint32_t i = r.first_item; i < r.first_item + r.item_count; ++i)
      if (owned_items[i]++) return "epoll watch " + std::to_string(i) + " belongs to two instances";
    std::set<int32_t> wds;
    for (uint32_t i = r.first_watch; i < r.first_watch + r.watch_count; ++i) {
      if (owned_watches[i]++) return "inotify watch " + std::to_string(i) + " belongs to two instances";
      if (!wds.insert(out.watches[i].wd).second)
        return detail::fd_text(r) + " (inotify) has watch descriptor " + std::to_string(out.watches[i].wd) + " twice";
    }
  }
  return "";
}

}  // namespace ckpt::event
