// Decoder of section "pty" (pty_section.h), for ckpt_info: one entry per
// descriptor (which end, of which pair, sharing which description) and one
// per pair this image saved, with its settings, window size, session,
// foreground group and the bytes queued each way.
#include <fcntl.h>
#include <termios.h>

#include <cinttypes>
#include <cstdio>

#include "pty_image.h"
#include "section_schema.h"

namespace ckpt::image {
namespace {

using pty::PtyPair;
using pty::PtyRecord;

std::string key_hex(uint64_t key) {
  char buf[24];
  snprintf(buf, sizeof buf, "%016" PRIx64, key);
  return buf;
}

template <size_t N>
Json flag_names(uint32_t bits, const std::pair<uint32_t, const char*> (&names)[N]) {
  Json out = Json::array();
  for (auto [bit, name] : names)
    if (bits & bit) out.push_back(name);
  return out;
}

Json termios_json(const pty::KernelTermios& t) {
  static constexpr std::pair<uint32_t, const char*> kLflag[] = {
      {ISIG, "ISIG"},       {ICANON, "ICANON"}, {ECHO, "ECHO"},       {ECHOE, "ECHOE"},   {ECHOK, "ECHOK"},
      {ECHONL, "ECHONL"},   {NOFLSH, "NOFLSH"}, {TOSTOP, "TOSTOP"},   {ECHOCTL, "ECHOCTL"}, {ECHOKE, "ECHOKE"},
      {IEXTEN, "IEXTEN"},   {EXTPROC, "EXTPROC"}};
  static constexpr std::pair<uint32_t, const char*> kIflag[] = {
      {ICRNL, "ICRNL"}, {INLCR, "INLCR"}, {IGNCR, "IGNCR"}, {IXON, "IXON"},       {IXOFF, "IXOFF"},
      {ISTRIP, "ISTRIP"}, {IUTF8, "IUTF8"}, {BRKINT, "BRKINT"}, {IMAXBEL, "IMAXBEL"}};
  static constexpr std::pair<uint32_t, const char*> kOflag[] = {{OPOST, "OPOST"}, {ONLCR, "ONLCR"}, {OCRNL, "OCRNL"}};
  Json cc = Json::object();
  static constexpr std::pair<int, const char*> kCc[] = {{VINTR, "VINTR"}, {VQUIT, "VQUIT"}, {VERASE, "VERASE"},
                                                        {VKILL, "VKILL"}, {VEOF, "VEOF"},   {VEOL, "VEOL"},
                                                        {VSUSP, "VSUSP"}, {VMIN, "VMIN"},   {VTIME, "VTIME"}};
  for (auto [i, name] : kCc) cc[name] = t.c_cc[i];
  return {{"iflag", hex_string(t.c_iflag)}, {"iflag_names", flag_names(t.c_iflag, kIflag)},
          {"oflag", hex_string(t.c_oflag)}, {"oflag_names", flag_names(t.c_oflag, kOflag)},
          {"cflag", hex_string(t.c_cflag)}, {"lflag", hex_string(t.c_lflag)},
          {"lflag_names", flag_names(t.c_lflag, kLflag)}, {"cc", cc},
          {"ispeed", t.c_ispeed}, {"ospeed", t.c_ospeed}};
}

Json pair_json(const PtyPair& p, const pty::PtySectionData& s) {
  Bytes in(s.bytes.data() + p.input_offset, p.input_len), out(s.bytes.data() + p.output_offset, p.output_len);
  return {{"pair_id", key_hex(p.pair_id)},
          {"pts", "/dev/pts/" + std::to_string(p.index)},
          {"packet_mode", (p.flags & pty::kPairPacket) != 0},
          {"locked", (p.flags & pty::kPairLocked) != 0},
          {"slave_closed", (p.flags & pty::kPairSlaveClosed) != 0},
          {"termios", termios_json(p.termios)},
          {"window", {{"rows", p.ws_row}, {"cols", p.ws_col}, {"xpixel", p.ws_xpixel}, {"ypixel", p.ws_ypixel}}},
          {"session_vsid", p.session_vsid},
          {"foreground_vpgid", p.fg_vpgid},
          {"input_bytes", p.input_len},
          {"input", escape_bytes(in)},
          {"output_bytes", p.output_len},
          {"output", escape_bytes(out)}};
}

Json record_json(const PtyRecord& r) {
  return {{"fd", r.fd},
          {"end", pty::end_name(r.end)},
          {"pts", "/dev/pts/" + std::to_string(r.index)},
          {"cloexec", (r.fd_flags & FD_CLOEXEC) != 0},
          {"nonblock", (r.status_flags & O_NONBLOCK) != 0},
          {"pair_id", key_hex(r.pair_id)},
          {"pair_vpid", pty::key_vpid(r.pair_id)},
          {"pair_fd", pty::key_fd(r.pair_id)},
          {"desc_id", key_hex(r.desc_id)}};
}

Json decode_pty(std::string_view, Bytes bytes) {
  pty::PtySectionData s;
  std::string why = pty::read_pty_section(bytes, 0, s);
  if (!why.empty()) throw SchemaError(why);
  Json descriptors = Json::array(), pairs = Json::array();
  for (const PtyRecord& r : s.records) descriptors.push_back(record_json(r));
  for (const PtyPair& p : s.pairs) pairs.push_back(pair_json(p, s));
  return {{"version", s.header.version},
          {"count", s.header.record_count},
          {"pair_count", s.header.pair_count},
          {"queued_bytes", s.header.bytes_size},
          {"descriptors", descriptors},
          {"pairs", pairs}};
}

const SectionSchema kPtySchema{pty::kPtySection, false, decode_pty};
const SchemaRegistration kRegistered(kPtySchema);

}  // namespace
}  // namespace ckpt::image
