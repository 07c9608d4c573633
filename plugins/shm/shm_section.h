// The shm kind's image schema: section "shm", in the image of every process
// that maps shared memory whose bytes live in the kernel (anonymous shared
// memory inherited across fork, /dev/zero, memfd, /dev/shm files, removed
// files) or holds a memfd descriptor.
//
//   ShmSectionHeader
//   ShmObject[object_count]     the objects this process maps or holds
//   ShmMapping[mapping_count]   its mappings of them (image regions flagged external)
//   ShmFd[fd_count]             its memfd descriptors
//   ShmExtent[extent_count]     bytes of objects no process maps, saved here
//   uint8_t[data_bytes]         those bytes
//
// An object is the same one in every image of the same kernel (boot_id)
// with the same (dev, ino): restart makes it once and maps it everywhere.
// Every process saved its mappings while all were frozen; a mapping's bytes
// are in this image's region when `saved` is 1 (no process with a lower
// virtual pid maps a range that covers it), else in another image's.
//
// Written by shm_save.cpp, read by shm_restart.cpp and shm_schema.cpp through
// shm_image.h.
#pragma once

#include <stdint.h>

namespace ckpt::shm {

inline constexpr char kShmSection[] = "shm";
// The memfd name a restart gives anonymous shared memory, so that the next
// checkpoint still sees it as anonymous.
#define CKPT_ANONYMOUS_SHARED_MEMFD "ckpt:anonymous shared memory"

inline constexpr uint32_t kShmSectionVersion = 1;

enum class ShmKind : uint32_t {
  Anonymous = 1,  // MAP_SHARED | MAP_ANONYMOUS, or a mapping of /dev/zero
  Memfd = 2,      // memfd_create: `name` is its name
  PosixShm = 3,   // a file in /dev/shm (shm_open, sem_open): `name` is its path
  Deleted = 4,    // a removed file: `name` is the path it had
};

struct ShmSectionHeader {
  uint32_t version;
  uint32_t object_count;
  uint32_t mapping_count;
  uint32_t fd_count;
  uint32_t extent_count;
  uint32_t reserved;
  uint64_t data_bytes;
  uint8_t boot_id[16];  // the kernel the objects lived in (/proc/sys/kernel/random/boot_id)
};

struct ShmObject {
  uint64_t dev;   // st_dev as the kernel prints it in /proc/PID/maps (major << 32 | minor)
  uint64_t ino;
  ShmKind kind;
  uint32_t seals;  // F_GET_SEALS of a memfd (known when a descriptor is held); 0 otherwise
  uint64_t size;   // bytes: a descriptor's st_size, else the highest mapped offset
  char name[256];
};

struct ShmMapping {
  uint64_t start, end;  // the region (image region with the same start)
  uint64_t offset;      // in the object
  uint32_t object;      // index into this section's objects
  uint32_t saved;       // 1: this image's region holds the bytes
};

struct ShmFd {
  int32_t fd;
  uint32_t fd_flags;      // F_GETFD
  uint32_t status_flags;  // F_GETFL
  uint32_t object;
  int64_t position;  // lseek(fd, 0, SEEK_CUR)
};

struct ShmExtent {
  uint32_t object;
  uint32_t reserved;
  uint64_t offset;       // in the object
  uint64_t length;
  uint64_t data_offset;  // in the section's bytes
};

}  // namespace ckpt::shm
