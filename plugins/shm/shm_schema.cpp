// Decoder of section "shm" (shm_section.h), for ckpt_info: the shared
// memory objects a process maps or holds, its mappings of them (and whether
// this image holds their bytes), its memfd descriptors, and bytes of objects
// no process mapped.
#include <fcntl.h>

#include <cinttypes>
#include <cstdio>

#include "section_schema.h"
#include "shm_image.h"

#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

namespace ckpt::image {
namespace {

Json seal_names(uint32_t seals) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {F_SEAL_SEAL, "F_SEAL_SEAL"},   {F_SEAL_SHRINK, "F_SEAL_SHRINK"}, {F_SEAL_GROW, "F_SEAL_GROW"},
      {F_SEAL_WRITE, "F_SEAL_WRITE"}, {F_SEAL_FUTURE_WRITE, "F_SEAL_FUTURE_WRITE"}, {F_SEAL_EXEC, "F_SEAL_EXEC"}};
  Json out = Json::array();
  for (auto [bit, name] : kNames)
    if (seals & bit) {
      out.push_back(name);
      seals &= ~bit;
    }
  if (seals) out.push_back(hex_string(seals));
  return out;
}

std::string boot_id_text(const uint8_t (&id)[16]) {
  char buf[40];
  for (int i = 0; i < 16; ++i) std::snprintf(buf + 2 * i, 3, "%02x", id[i]);
  return buf;
}

Json decode_shm(std::string_view, Bytes bytes) {
  shm::ShmSectionData s;
  std::string why = shm::read_shm_section(bytes, s);
  if (!why.empty()) throw SchemaError(why);
  Json objects = Json::array();
  for (const shm::ShmObject& o : s.objects) {
    Json j = {{"kind", shm::kind_name(o.kind)},
              {"device", std::to_string(o.dev >> 32) + ":" + std::to_string(o.dev & 0xffffffff)},
              {"inode", o.ino},
              {"size", o.size}};
    if (o.name[0]) j["name"] = fixed_string(o.name);
    if (o.seals) j["seals"] = seal_names(o.seals);
    objects.push_back(j);
  }
  Json mappings = Json::array();
  for (const shm::ShmMapping& m : s.mappings)
    mappings.push_back({{"start", hex_string(m.start)},
                        {"end", hex_string(m.end)},
                        {"object", m.object},
                        {"offset", m.offset},
                        {"bytes_here", m.saved == 1}});
  Json fds = Json::array();
  for (const shm::ShmFd& f : s.fds)
    fds.push_back({{"fd", f.fd},
                   {"object", f.object},
                   {"cloexec", (f.fd_flags & FD_CLOEXEC) != 0},
                   {"flags", octal_string(f.status_flags)},
                   {"position", f.position}});
  Json extents = Json::array();
  for (const shm::ShmExtent& e : s.extents)
    extents.push_back({{"object", e.object}, {"offset", e.offset}, {"length", e.length}});
  return {{"version", s.header.version},
          {"boot_id", boot_id_text(s.header.boot_id)},
          {"objects", objects},
          {"mappings", mappings},
          {"descriptors", fds},
          {"unmapped_bytes", extents}};
}

const SectionSchema kShmSchema{shm::kShmSection, false, decode_shm};
const SchemaRegistration kRegistered(kShmSchema);

}  // namespace
}  // namespace ckpt::image
