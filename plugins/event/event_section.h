// The event kind's image schema: section "event", one per image of a process
// that holds eventfd, timerfd, signalfd, epoll or inotify descriptors.
//
//   EventSectionHeader
//   EventRecord[record_count]   one per descriptor
//   EpollItem[item_count]       the interest lists of the epoll instances this image leads
//   InotifyWatch[watch_count]   the watches of the inotify instances this image leads
//
// Written by the checkpoint side (event_save.cpp), read by the restart side
// (event_restart.cpp, through event_image.h) and decoded for ckpt_info
// (event_schema.cpp).
#pragma once

#include <stdint.h>

namespace ckpt::event {

inline constexpr char kEventSection[] = "event";
inline constexpr uint32_t kEventSectionVersion = 1;

enum class EventKind : uint32_t {
  Eventfd = 1,
  Timerfd = 2,
  Signalfd = 3,
  Epoll = 4,
  Inotify = 5,
};

struct EventRecord {
  int32_t fd;
  uint32_t fd_flags;      // F_GETFD (FD_CLOEXEC)
  uint32_t status_flags;  // F_GETFL (O_NONBLOCK)
  EventKind kind;
  // As FdRecord's (tree_sections.h): (vpid << 32 | fd) of the holder with
  // the lowest (vpid, fd) among every descriptor of the computation that
  // refers to the same object (kcmp KCMP_FILE). Restart makes one object per
  // desc_id.
  uint64_t desc_id;
  uint32_t leader;  // 1: desc_id names this descriptor, and the object's state below is saved
  // Eventfd
  uint32_t semaphore;  // EFD_SEMAPHORE
  uint64_t count;      // the counter ("eventfd-count" of fdinfo; read without reading the eventfd)
  // Timerfd
  int32_t clock_id;        // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, ..._ALARM
  uint32_t settime_flags;  // TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
  uint64_t ticks;          // expirations not read yet
  // When it fires next (all zero: disarmed): the time left; with
  // TFD_TIMER_ABSTIME the absolute time on clock_id instead.
  int64_t value_sec, value_nsec;
  int64_t interval_sec, interval_nsec;
  // Signalfd
  uint64_t sigmask;  // bit (sig - 1)
  // Epoll: its interest list is items [first_item, first_item + item_count).
  uint32_t first_item, item_count;
  // Inotify: its watches are [first_watch, first_watch + watch_count).
  uint32_t first_watch, watch_count;
  uint32_t queued_bytes;  // inotify: bytes of events queued at checkpoint (FIONREAD); a restart loses them
  uint32_t reserved;
};

// One entry of an epoll instance's interest list, as fdinfo shows it.
struct EpollItem {
  int32_t tfd;      // the descriptor number it was added with (what EPOLL_CTL_MOD/DEL name)
  uint32_t events;  // EPOLLIN ... EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE (a fired one-shot has none left)
  uint64_t data;
  // Who adds it again at restart: process adder_vpid, which holds the epoll
  // instance and has the watched file as its descriptor via_fd (tfd itself,
  // unless that number was closed or reused since).
  int32_t adder_vpid;
  int32_t via_fd;
  uint64_t target_ino;  // st_ino and st_dev of the watched file, for ckpt_info
  uint64_t target_dev;
};

// One watch of an inotify instance.
struct InotifyWatch {
  int32_t wd;
  uint32_t mask;  // IN_* events, IN_EXCL_UNLINK, IN_ONESHOT (as fdinfo shows it)
  uint64_t ino;   // the watched inode
  uint64_t dev;   // st_dev of its file system
  char path[4096];  // an absolute path to it (recorded by the inotify_add_watch wrapper, checked at checkpoint)
};

struct EventSectionHeader {
  uint32_t version;
  uint32_t record_count;
  uint32_t item_count;
  uint32_t watch_count;
};

}  // namespace ckpt::event
