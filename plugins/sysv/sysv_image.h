// Reads section "sysv" (sysv_section.h) for the tools: ckpt_restart's sysv
// kind and ckpt_info's decoder. Everything is checked (images can be
// crafted): counts, offsets and lengths stay inside the section.
#pragma once

#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "sysv_section.h"

namespace ckpt::sysv {

struct SysvSectionData {
  SysvSectionHeader header{};
  std::string table_path;
  std::vector<SysvAttach> attaches;
  std::vector<SysvObjectRecord> objects;
  std::vector<SysvAdjRecord> adjustments;
  std::span<const uint8_t> data;

  // The bytes of one object's contents (checked by read_sysv_section).
  std::span<const uint8_t> contents(const SysvObjectRecord& o) const { return data.subspan(o.data_offset, o.data_len); }
};

struct SysvMessageView {
  int64_t type;
  std::span<const uint8_t> text;
};

// A queue's messages from its contents; empty string or the reason it is malformed.
inline std::string read_messages(std::span<const uint8_t> bytes, uint32_t count, std::vector<SysvMessageView>& out) {
  size_t at = 0;
  for (uint32_t i = 0; i < count; ++i) {
    SysvMessage m;
    if (bytes.size() - at < sizeof m) return "message " + std::to_string(i) + " is cut off";
    std::memcpy(&m, bytes.data() + at, sizeof m);
    at += sizeof m;
    if (m.len > bytes.size() - at) return "message " + std::to_string(i) + " is longer than its queue's contents";
    out.push_back({m.type, bytes.subspan(at, m.len)});
    at += (m.len + 7) & ~uint64_t{7};
    if (at > bytes.size()) at = bytes.size();
  }
  return "";
}

// Fills `out`; returns an empty string or the reason the section is malformed.
inline std::string read_sysv_section(std::span<const uint8_t> bytes, SysvSectionData& out) {
  if (bytes.size() < sizeof out.header) return "section sysv is shorter than its header";
  std::memcpy(&out.header, bytes.data(), sizeof out.header);
  const SysvSectionHeader& h = out.header;
  if (h.version != kSysvSectionVersion)
    return "section sysv has version " + std::to_string(h.version) + ", this ckpt reads version " +
           std::to_string(kSysvSectionVersion);
  if (h.attach_count > 65536 || h.object_count > kMaxObjects || h.adjustment_count > kMaxAdjustments)
    return "section sysv has impossible counts";
  out.table_path.assign(h.table_path, strnlen(h.table_path, sizeof h.table_path));
  size_t at = sizeof h;
  auto take = [&](auto& vec, uint32_t n) {
    using T = typename std::decay_t<decltype(vec)>::value_type;
    if ((bytes.size() - at) / sizeof(T) < n) return false;
    vec.resize(n);
    if (n) std::memcpy(vec.data(), bytes.data() + at, n * sizeof(T));
    at += n * sizeof(T);
    return true;
  };
  if (!take(out.attaches, h.attach_count) || !take(out.objects, h.object_count) ||
      !take(out.adjustments, h.adjustment_count))
    return "section sysv is shorter than its counts say";
  if (h.data_bytes != bytes.size() - at) return "section sysv's data area does not match its size";
  out.data = bytes.subspan(at);
  for (const SysvObjectRecord& o : out.objects) {
    if (o.kind != IpcKind::Shm && o.kind != IpcKind::Sem && o.kind != IpcKind::Msg)
      return "section sysv has an object of unknown kind " + std::to_string(static_cast<uint32_t>(o.kind));
    if (o.data_offset > out.data.size() || o.data_len > out.data.size() - o.data_offset)
      return std::string("section sysv: ") + kind_name(o.kind) + " " + std::to_string(o.virt) +
             ": contents outside the data area";
    if (o.kind == IpcKind::Shm && o.data_len != o.size)
      return "section sysv: shm " + std::to_string(o.virt) + ": contents do not match its size";
    if (o.kind == IpcKind::Sem && (o.size == 0 || o.data_len != o.size * 2))
      return "section sysv: sem " + std::to_string(o.virt) + ": values do not match its size";
    if (o.kind == IpcKind::Msg) {
      std::vector<SysvMessageView> messages;
      std::string why = read_messages(out.contents(o), o.count, messages);
      if (!why.empty()) return "section sysv: msg " + std::to_string(o.virt) + ": " + why;
    }
  }
  return "";
}

}  // namespace ckpt::sysv
