// Decoder of section "sysv" (sysv_section.h), for ckpt_info: the id table,
// this process's attached segments and, in the saver's image, every object
// with its permissions and contents (a segment's first bytes, a set's
// values, a queue's messages) and every process's SEM_UNDO adjustments.
#include <cinttypes>
#include <cstdio>

#include "section_schema.h"
#include "sysv_image.h"

namespace ckpt::image {
namespace {

using sysv::IpcKind;
using sysv::SysvObjectRecord;

constexpr size_t kSegmentBytesShown = 256;

std::string key_text(int32_t key) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08" PRIx32, static_cast<uint32_t>(key));
  return buf;
}

Json object_json(const SysvObjectRecord& o, const sysv::SysvSectionData& s) {
  Json out = {{"kind", sysv::kind_name(o.kind)},
              {"id", o.virt},
              {"real_id", o.real},
              {"key", key_text(o.key)},
              {"key_elsewhere", (o.flags & sysv::kRecordKeyElsewhere) != 0},
              {"uid", o.uid},
              {"gid", o.gid},
              {"cuid", o.cuid},
              {"cgid", o.cgid},
              {"mode", octal_string(o.mode & 0777)}};
  std::span<const uint8_t> bytes = s.contents(o);
  switch (o.kind) {
    case IpcKind::Shm:
      out["size"] = o.size;
      out["attached"] = o.count;
      out["removed"] = (o.flags & sysv::kRecordRemoved) != 0;
      out["creator_pid"] = o.creator_vpid;
      add_data(out, bytes, kSegmentBytesShown);
      break;
    case IpcKind::Sem: {
      Json values = Json::array();
      for (size_t i = 0; i + 1 < bytes.size(); i += 2) values.push_back(bytes[i] | (bytes[i + 1] << 8));
      out["nsems"] = o.size;
      out["values"] = values;
      break;
    }
    case IpcKind::Msg: {
      std::vector<sysv::SysvMessageView> messages;
      sysv::read_messages(bytes, o.count, messages);
      Json list = Json::array();
      for (const auto& m : messages) list.push_back({{"type", m.type}, {"size", m.text.size()}, {"text", escape_bytes(m.text)}});
      out["qbytes"] = o.qbytes;
      out["bytes"] = o.size;
      out["last_sender_pid"] = o.creator_vpid;
      out["messages"] = list;
      break;
    }
  }
  return out;
}

Json decode_sysv(std::string_view, Bytes bytes) {
  sysv::SysvSectionData s;
  std::string why = sysv::read_sysv_section(bytes, s);
  if (!why.empty()) throw SchemaError(why);
  Json attaches = Json::array();
  for (const sysv::SysvAttach& a : s.attaches) {
    char start[24], end[24];
    snprintf(start, sizeof start, "0x%" PRIx64, a.start);
    snprintf(end, sizeof end, "0x%" PRIx64, a.end);
    attaches.push_back({{"shmid", a.virt_shmid}, {"start", start}, {"end", end}, {"offset", a.offset}, {"prot", a.prot}});
  }
  Json out = {{"version", s.header.version},
              {"table", s.table_path},
              {"saver", s.header.saver != 0},
              {"attached", attaches}};
  if (!s.header.saver) return out;
  Json objects = Json::array();
  for (const SysvObjectRecord& o : s.objects) objects.push_back(object_json(o, s));
  Json adjustments = Json::array();
  for (const sysv::SysvAdjRecord& a : s.adjustments)
    adjustments.push_back({{"pid", a.vpid}, {"semid", a.virt_semid}, {"semnum", a.semnum}, {"adj", a.adj}});
  out["objects"] = objects;
  out["sem_undo"] = adjustments;
  return out;
}

const SectionSchema kSysvSchema{sysv::kSysvSection, false, decode_sysv};
const SchemaRegistration kRegistered(kSysvSchema);

}  // namespace
}  // namespace ckpt::image
