// Section "shm" (shm_section.h) read back and checked, for the tools:
// ckpt_restart's shm kind and ckpt_info's decoder take a section through
// read_shm_section() and nothing else, so both refuse the same malformed
// images with the same reason (images can be crafted: GUIDE §3.11).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "shm_section.h"

namespace ckpt::shm {

struct ShmSectionData {
  ShmSectionHeader header{};
  std::vector<ShmObject> objects;
  std::vector<ShmMapping> mappings;
  std::vector<ShmFd> fds;
  std::vector<ShmExtent> extents;
  std::span<const uint8_t> data;  // into the section's bytes
};

inline constexpr uint32_t kMaxCount = 1u << 20;
inline constexpr int32_t kMaxFd = 1 << 30;

inline const char* kind_name(ShmKind kind) {
  switch (kind) {
    case ShmKind::Anonymous: return "anonymous";
    case ShmKind::Memfd: return "memfd";
    case ShmKind::PosixShm: return "posix-shm";
    case ShmKind::Deleted: return "deleted-file";
  }
  return nullptr;
}

namespace detail {

template <typename T>
bool take(std::span<const uint8_t>& bytes, uint32_t count, std::vector<T>& out) {
  if (bytes.size() / sizeof(T) < count) return false;
  out.resize(count);
  if (count) std::memcpy(out.data(), bytes.data(), count * sizeof(T));
  bytes = bytes.subspan(count * sizeof(T));
  return true;
}

}  // namespace detail

// "" if the section is sound, else why not. Offsets and lengths are checked
// against each other (page-aligned mappings inside 47-bit user space, extents
// inside the bytes that follow).
inline std::string read_shm_section(std::span<const uint8_t> bytes, ShmSectionData& out) {
  if (bytes.size() < sizeof out.header) return "is " + std::to_string(bytes.size()) + " bytes, shorter than its header";
  std::memcpy(&out.header, bytes.data(), sizeof out.header);
  bytes = bytes.subspan(sizeof out.header);
  const ShmSectionHeader& h = out.header;
  if (h.version != kShmSectionVersion)
    return "has version " + std::to_string(h.version) + ", this ckpt reads version " + std::to_string(kShmSectionVersion);
  if (h.object_count > kMaxCount || h.mapping_count > kMaxCount || h.fd_count > kMaxCount || h.extent_count > kMaxCount)
    return "has more records than any process holds";
  if (!detail::take(bytes, h.object_count, out.objects) || !detail::take(bytes, h.mapping_count, out.mappings) ||
      !detail::take(bytes, h.fd_count, out.fds) || !detail::take(bytes, h.extent_count, out.extents))
    return "is shorter than its records";
  if (bytes.size() != h.data_bytes) return "holds " + std::to_string(bytes.size()) + " bytes of data, its header says " +
                                           std::to_string(h.data_bytes);
  out.data = bytes;
  for (size_t i = 0; i < out.objects.size(); ++i) {
    ShmObject& o = out.objects[i];
    if (!kind_name(o.kind)) return "object " + std::to_string(i) + " has unknown kind " + std::to_string(static_cast<uint32_t>(o.kind));
    if (o.size > (uint64_t{1} << 47)) return "object " + std::to_string(i) + " is larger than any memory";
    o.name[sizeof o.name - 1] = '\0';
    if (o.kind == ShmKind::PosixShm && (std::strncmp(o.name, "/dev/shm/", 9) != 0 || std::strstr(o.name, "/../") ||
                                        std::strcmp(o.name + std::strlen(o.name) - 3, "/..") == 0))
      return "object " + std::to_string(i) + " is a POSIX shared memory file outside /dev/shm";
  }
  for (const ShmMapping& m : out.mappings) {
    if (m.object >= out.objects.size()) return "has a mapping of object " + std::to_string(m.object) + " it does not list";
    if (m.start >= m.end || (m.start | m.end | m.offset) % 4096 || m.end > (uint64_t{1} << 47) || m.saved > 1 ||
        m.offset > (uint64_t{1} << 47))
      return "has a mapping that is not a page-aligned range of user memory";
  }
  for (const ShmFd& f : out.fds) {
    if (f.object >= out.objects.size()) return "has a descriptor of object " + std::to_string(f.object) + " it does not list";
    if (f.fd < 0 || f.fd >= kMaxFd) return "has descriptor number " + std::to_string(f.fd);
  }
  for (const ShmExtent& e : out.extents) {
    if (e.object >= out.objects.size()) return "has bytes of object " + std::to_string(e.object) + " it does not list";
    if (e.data_offset > out.data.size() || e.length > out.data.size() - e.data_offset ||
        e.offset > out.objects[e.object].size || e.length > out.objects[e.object].size - e.offset)
      return "has bytes outside its data or its object";
  }
  return "";
}

}  // namespace ckpt::shm
