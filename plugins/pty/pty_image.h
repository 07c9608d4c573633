// Section "pty" (pty_section.h) read back and checked, for the tools:
// ckpt_restart's pty kind and ckpt_info's decoder take a section through
// read_pty_section() and nothing else, so both refuse the same malformed
// images with the same reason (images can be crafted: GUIDE §3.11).
#pragma once

#include <cstdint>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "pty_section.h"

namespace ckpt::pty {

struct PtySectionData {
  PtySectionHeader header{};
  std::vector<PtyRecord> records;
  std::vector<PtyPair> pairs;
  std::vector<uint8_t> bytes;
};

// Bounds no real section reaches; anything beyond is a crafted image.
inline constexpr uint32_t kMaxRecords = 1u << 20;
inline constexpr uint32_t kMaxPairs = 1u << 16;
inline constexpr uint32_t kMaxBytes = 1u << 26;
inline constexpr int32_t kMaxFd = 1 << 30;
inline constexpr uint32_t kMaxIndex = 1u << 20;  // NR_UNIX98_PTY_MAX

inline const char* end_name(PtyEnd end) {
  switch (end) {
    case PtyEnd::Master: return "master";
    case PtyEnd::Slave: return "slave";
  }
  return nullptr;
}

inline int32_t key_vpid(uint64_t key) { return static_cast<int32_t>(key >> 32); }
inline int32_t key_fd(uint64_t key) { return static_cast<int32_t>(key & 0xffffffff); }

namespace detail {

inline std::string check_record(const PtyRecord& r) {
  const std::string fd = "fd " + std::to_string(r.fd);
  if (r.fd < 0 || r.fd >= kMaxFd) return "has descriptor number " + std::to_string(r.fd);
  if (!end_name(r.end)) return fd + " has unknown end " + std::to_string(static_cast<uint32_t>(r.end));
  if (r.index >= kMaxIndex) return fd + " has terminal number " + std::to_string(r.index);
  if (key_fd(r.pair_id) < 0 || key_vpid(r.pair_id) <= 0 || key_fd(r.desc_id) < 0 || key_vpid(r.desc_id) <= 0)
    return fd + " names a pair or description of no process";
  if (r.end == PtyEnd::Master && r.desc_id != r.pair_id) return fd + " is a master whose description is not its pair's";
  return "";
}

inline std::string check_pair(const PtyPair& p, uint32_t bytes_size) {
  const std::string at = "pair of /dev/pts/" + std::to_string(p.index);
  if (p.index >= kMaxIndex) return "a pair has terminal number " + std::to_string(p.index);
  if (p.flags & ~kPairFlags) return at + " has flags " + std::to_string(p.flags);
  if (p.session_vsid < 0 || p.fg_vpgid < 0) return at + " has a negative session or process group";
  if (!p.session_vsid && p.fg_vpgid) return at + " has a foreground group but no session";
  if ((p.flags & kPairSlaveClosed) && p.session_vsid) return at + " is a controlling terminal with its slave closed";
  if (uint64_t{p.input_offset} + p.input_len > bytes_size || uint64_t{p.output_offset} + p.output_len > bytes_size)
    return at + " has queued bytes beyond the section's " + std::to_string(bytes_size);
  return "";
}

}  // namespace detail

// Reads section "pty" into `out`. Returns "" or the reason it is malformed
// (one line, without the section's name). `vpid`: the image's process,
// which must be the one its pairs name as their leader (0: unknown, as to
// ckpt_info; then the pairs must agree on one).
inline std::string read_pty_section(std::span<const uint8_t> bytes, int32_t vpid, PtySectionData& out) {
  if (bytes.size() < sizeof(PtySectionHeader))
    return std::to_string(bytes.size()) + " bytes, shorter than its " + std::to_string(sizeof(PtySectionHeader)) +
           "-byte header";
  PtySectionHeader& h = out.header;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.version != kPtySectionVersion)
    return "has version " + std::to_string(h.version) + ", this ckpt reads version " + std::to_string(kPtySectionVersion);
  if (h.record_count > kMaxRecords || h.pair_count > kMaxPairs || h.bytes_size > kMaxBytes)
    return "counts " + std::to_string(h.record_count) + "/" + std::to_string(h.pair_count) + "/" +
           std::to_string(h.bytes_size) + " are beyond any process's";
  const uint64_t want = sizeof h + uint64_t{h.record_count} * sizeof(PtyRecord) +
                        uint64_t{h.pair_count} * sizeof(PtyPair) + h.bytes_size;
  if (bytes.size() != want)
    return std::to_string(h.record_count) + " descriptors, " + std::to_string(h.pair_count) + " pairs and " +
           std::to_string(h.bytes_size) + " queued bytes need " + std::to_string(want) + " bytes, it has " +
           std::to_string(bytes.size());
  const uint8_t* p = bytes.data() + sizeof h;
  auto take = [&](auto& vec, uint32_t n) {
    vec.resize(n);
    if (n) std::memcpy(vec.data(), p, n * sizeof vec[0]);
    p += n * sizeof vec[0];
  };
  take(out.records, h.record_count);
  take(out.pairs, h.pair_count);
  take(out.bytes, h.bytes_size);

  std::set<int32_t> fds;
  for (const PtyRecord& r : out.records) {
    if (std::string why = detail::check_record(r); !why.empty()) return why;
    if (!fds.insert(r.fd).second) return "describes fd " + std::to_string(r.fd) + " twice";
  }
  std::set<uint64_t> pairs;
  if (!vpid && !out.pairs.empty()) vpid = key_vpid(out.pairs.front().pair_id);
  for (const PtyPair& pair : out.pairs) {
    if (std::string why = detail::check_pair(pair, h.bytes_size); !why.empty()) return why;
    if (!pairs.insert(pair.pair_id).second) return "describes a pair twice";
    // The leader holds the master at the number the pair is named by.
    bool held = false;
    for (const PtyRecord& r : out.records)
      held |= r.end == PtyEnd::Master && r.pair_id == pair.pair_id && key_vpid(r.pair_id) == vpid && key_fd(r.pair_id) == r.fd;
    if (!held)
      return "saves the pair of /dev/pts/" + std::to_string(pair.index) + " without holding its master at fd " +
             std::to_string(key_fd(pair.pair_id));
  }
  return "";
}

}  // namespace ckpt::pty
