// The kinds' section decoders, as ckpt_info runs them: each section decodes
// to its fields, and a short, wrong-version or crafted section decodes to an
// error entry instead of a crash.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <vector>

#include "layout_section.h"
#include "section_schema.h"
#include "signal_section.h"
#include "stats_section.h"
#include "timer_section.h"
#include "tree_sections.h"

namespace ckpt::image {
namespace {

template <typename T>
std::vector<uint8_t> bytes_of(const T& v) {
  std::vector<uint8_t> out(sizeof v);
  std::memcpy(out.data(), &v, sizeof v);
  return out;
}

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

Json decode(std::string_view name, const std::vector<uint8_t>& bytes) {
  return decode_section(name, Bytes(bytes.data(), bytes.size()));
}

std::vector<uint8_t> fd_section(const std::vector<FdRecord>& records, uint32_t version = kFdSectionVersion) {
  FdSectionHeader h{};
  h.version = version;
  h.count = static_cast<uint32_t>(records.size());
  h.umask = 027;
  h.rlimits[7] = {1024, 4096};
  std::strcpy(h.cwd, "/work/dir");
  std::vector<uint8_t> out = bytes_of(h);
  for (const FdRecord& r : records) {
    std::vector<uint8_t> b = bytes_of(r);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

TEST(SectionSchema, EveryBuiltInSectionHasADecoder) {
  for (const char* name : {kLayoutSection, kPidSection, kFdSection, kSignalSection, kTimerSection, kStatsSection})
    EXPECT_NE(find_schema(name), nullptr) << name;
  EXPECT_STREQ(find_schema("fdata.0000000100000003")->name, kFileContentsPrefix);
  EXPECT_STREQ(find_schema("pipe.4711")->name, kPipeBytesPrefix);
  EXPECT_EQ(find_schema("pipe."), nullptr);  // a prefix alone names nothing
  EXPECT_EQ(find_schema("fdsx"), nullptr);
}

TEST(SectionSchema, UnknownSectionShowsCappedHex) {
  Json s = decode("thirdparty", std::vector<uint8_t>(kHexShown + 10, 0xab));
  EXPECT_TRUE(s["schema"].is_null());
  EXPECT_EQ(s["size"], kHexShown + 10);
  EXPECT_EQ(s["hex"].get<std::string>().size(), 2 * kHexShown);
  EXPECT_EQ(s["hex_truncated"], true);
  EXPECT_EQ(s["hex"].get<std::string>().substr(0, 4), "abab");
}

TEST(SectionSchema, DecodesDescriptorTable) {
  FdRecord r{};
  r.fd = 10;
  r.kind = FdKind::File;
  r.fd_flags = 1;
  r.status_flags = 02 | 02000;  // O_RDWR | O_APPEND
  r.desc_id = (uint64_t{42} << 32) | 10;
  r.offset = 5;
  r.mode = 0100644;
  r.policy = FilePolicy::Replace;
  r.has_contents = 1;
  std::strcpy(r.path, "/data/x.txt");
  FdRecord lost = r;
  lost.fd = 11;
  lost.kind = static_cast<FdKind>(10);
  FdRecord crafted = r;
  crafted.fd = 12;
  crafted.kind = static_cast<FdKind>(77);
  crafted.policy = static_cast<FilePolicy>(9);
  Json s = decode(kFdSection, fd_section({r, lost, crafted}));
  ASSERT_TRUE(s.contains("content")) << s;
  const Json& c = s["content"];
  EXPECT_EQ(c["umask"], "027");
  EXPECT_EQ(c["cwd"], "/work/dir");
  EXPECT_EQ(c["rlimits"]["nofile"]["cur"], 1024);
  ASSERT_EQ(c["descriptors"].size(), 3u);
  const Json& d = c["descriptors"][0];
  EXPECT_EQ(d["fd"], 10);
  EXPECT_EQ(d["kind"], "file");
  EXPECT_EQ(d["path"], "/data/x.txt");
  EXPECT_EQ(d["offset"], 5);
  EXPECT_EQ(d["cloexec"], true);
  EXPECT_EQ(d["access"], "rdwr");
  EXPECT_EQ(d["status"], Json::array({"O_APPEND"}));
  EXPECT_EQ(d["policy"], "replace");
  EXPECT_EQ(d["desc_id"], "0000002a0000000a");
  EXPECT_EQ(d["desc_vpid"], 42);
  EXPECT_EQ(d["has_contents"], true);
  EXPECT_EQ(d["mode"], "100644");
  EXPECT_EQ(d["type"], "regular");
  EXPECT_EQ(c["descriptors"][1]["kind"], "lost");
  EXPECT_EQ(c["descriptors"][2]["kind"], "unknown(77)");
  EXPECT_EQ(c["descriptors"][2]["policy"], "unknown(9)");
}

TEST(SectionSchema, MalformedSectionsAreErrorEntries) {
  std::vector<uint8_t> fds = fd_section({FdRecord{}});
  std::vector<uint8_t> short_fds(fds.begin(), fds.end() - 1);
  EXPECT_TRUE(decode(kFdSection, short_fds).contains("error"));
  EXPECT_TRUE(decode(kFdSection, std::vector<uint8_t>(3)).contains("error"));
  std::vector<uint8_t> wrong = fd_section({}, 2);
  Json s = decode(kFdSection, wrong);
  ASSERT_TRUE(s.contains("error"));
  EXPECT_NE(s["error"].get<std::string>().find("version 2"), std::string::npos) << s;
  // A count that would overflow a 32-bit size computation.
  FdSectionHeader h{};
  h.version = kFdSectionVersion;
  h.count = 0xffffffffu;
  EXPECT_TRUE(decode(kFdSection, bytes_of(h)).contains("error"));

  PidSection p{};
  p.version = kPidSectionVersion;
  p.zombie_count = kMaxZombies + 1;
  EXPECT_TRUE(decode(kPidSection, bytes_of(p)).contains("error"));
  EXPECT_TRUE(decode(kPidSection, {}).contains("error"));

  auto sig = std::make_unique<SignalSection>();
  sig->version = kSignalSectionVersion;
  sig->queued_count = kMaxQueuedSignals + 1;
  EXPECT_TRUE(decode(kSignalSection, bytes_of(*sig)).contains("error"));
  TimerSection t{};
  t.version = 0;
  EXPECT_TRUE(decode(kTimerSection, bytes_of(t)).contains("error"));
  LayoutSection l{};
  EXPECT_TRUE(decode(kLayoutSection, bytes_of(l)).contains("error"));

  EXPECT_TRUE(decode("fdata.xyz", bytes_of("abc")).contains("error"));
  EXPECT_TRUE(decode("pipe.12a", bytes_of("abc")).contains("error"));
  EXPECT_TRUE(decode("pipe.99999999999999999999", bytes_of("abc")).contains("error"));
}

StatsSection stats_section() {
  StatsSection s{};
  s.version = kStatsSectionVersion;
  s.figures.pages_scanned = 100;
  s.figures.pages_skipped_untouched = 50;
  s.figures.pages_skipped_zero = 20;
  s.figures.pages_skipped_file = 10;
  s.figures.pages_written = 20;
  s.figures.bytes_raw = 20 * 4096;
  s.figures.bytes_compressed = 1234;
  s.figures.write_ns = 12'345'678;
  return s;
}

TEST(SectionSchema, DecodesStatsSection) {
  Json s = decode(kStatsSection, bytes_of(stats_section()));
  ASSERT_FALSE(s.contains("error")) << s;
  const Json& c = s["content"];
  EXPECT_EQ(c["pages_scanned"], 100u);
  EXPECT_EQ(c["pages_skipped_untouched"], 50u);
  EXPECT_EQ(c["pages_skipped_zero"], 20u);
  EXPECT_EQ(c["pages_skipped_file"], 10u);
  EXPECT_EQ(c["pages_skipped_unchanged"], 0u);
  EXPECT_EQ(c["pages_written"], 20u);
  EXPECT_EQ(c["bytes_raw"], 20u * 4096);
  EXPECT_EQ(c["bytes_compressed"], 1234u);
  EXPECT_DOUBLE_EQ(c["write_ms"].get<double>(), 12.345);
}

TEST(SectionSchema, StatsThatCannotBeTrueAreErrorEntries) {
  StatsSection s = stats_section();
  s.figures.pages_written = 21;  // one page more than scanned
  Json j = decode(kStatsSection, bytes_of(s));
  ASSERT_TRUE(j.contains("error"));
  EXPECT_NE(j["error"].get<std::string>().find("do not add up"), std::string::npos) << j;
  s = stats_section();
  s.figures.bytes_compressed = s.figures.bytes_raw + 16 * 20 + 1;
  EXPECT_TRUE(decode(kStatsSection, bytes_of(s)).contains("error"));
  s = stats_section();
  // Two counts past the address space whose sum wraps round to pages_scanned.
  s.figures.pages_skipped_untouched += uint64_t{1} << 63;
  s.figures.pages_skipped_file += uint64_t{1} << 63;
  EXPECT_TRUE(decode(kStatsSection, bytes_of(s)).contains("error"));
  s = stats_section();
  s.version = 2;
  EXPECT_TRUE(decode(kStatsSection, bytes_of(s)).contains("error"));
  std::vector<uint8_t> short_stats = bytes_of(stats_section());
  short_stats.pop_back();
  EXPECT_TRUE(decode(kStatsSection, short_stats).contains("error"));
}

TEST(SectionSchema, DecodesPidSection) {
  PidSection p{};
  p.version = kPidSectionVersion;
  p.vpid = 40;
  p.vppid = 1;
  p.vpgid = 40;
  p.vsid = 7;
  p.real_pid = 900;
  p.zombie_count = 1;
  p.zombies[0] = {41, 3 << 8, 40, 0};
  std::strcpy(p.pidtable_path, "/tmp/pids");
  Json c = decode(kPidSection, bytes_of(p))["content"];
  EXPECT_EQ(c["vpid"], 40);
  EXPECT_EQ(c["vsid"], 7);
  EXPECT_EQ(c["real_pid"], 900);
  EXPECT_EQ(c["pidtable_path"], "/tmp/pids");
  ASSERT_EQ(c["zombies"].size(), 1u);
  EXPECT_EQ(c["zombies"][0]["vpid"], 41);
  EXPECT_EQ(c["zombies"][0]["exit_code"], 3);
}

TEST(SectionSchema, DecodesSignalsAndTimers) {
  auto s = std::make_unique<SignalSection>();
  s->version = kSignalSectionVersion;
  s->actions[SIGUSR1] = {0x401000, SA_RESTART | SA_SIGINFO, 0, 1ull << (SIGINT - 1)};
  s->actions[SIGPIPE] = {1, 0, 0, 0};
  s->queued_count = 1;
  s->queued[0].signo = SIGUSR2;
  s->queued[0].code = SI_QUEUE;
  int32_t pid = 77;
  int64_t value = 1234;
  std::memcpy(s->queued[0].fields, &pid, sizeof pid);
  std::memcpy(s->queued[0].fields + 8, &value, sizeof value);
  s->thread_count = 1;
  s->threads[0] = {78, 0, 1ull << (SIGTERM - 1)};
  Json c = decode(kSignalSection, bytes_of(*s))["content"];
  ASSERT_EQ(c["actions"].size(), 2u) << c;
  EXPECT_EQ(c["actions"][0]["name"], "SIGUSR1");
  EXPECT_EQ(c["actions"][0]["handler"], "0x401000");
  EXPECT_EQ(c["actions"][0]["mask"], Json::array({"SIGINT"}));
  EXPECT_EQ(c["actions"][1]["name"], "SIGPIPE");
  EXPECT_EQ(c["actions"][1]["handler"], "ignore");
  EXPECT_EQ(c["process_pending"][0]["name"], "SIGUSR2");
  EXPECT_EQ(c["process_pending"][0]["code_name"], "SI_QUEUE");
  EXPECT_EQ(c["process_pending"][0]["pid"], 77);
  EXPECT_EQ(c["process_pending"][0]["value"], 1234);
  EXPECT_EQ(c["thread_pending"][0]["tid"], 78);
  EXPECT_EQ(c["thread_pending"][0]["pending"], Json::array({"SIGTERM"}));

  TimerSection t{};
  t.version = kTimerSectionVersion;
  t.timers[0] = {0, 500000, 1, 250000};
  Json tc = decode(kTimerSection, bytes_of(t))["content"];
  EXPECT_EQ(tc["timers"][0]["which"], "real");
  EXPECT_EQ(tc["timers"][0]["armed"], true);
  EXPECT_EQ(tc["timers"][0]["interval_usec"], 500000);
  EXPECT_EQ(tc["timers"][1]["armed"], false);
}

TEST(SectionSchema, DecodesDataSectionsEscapedAndCapped) {
  Json f = decode("fdata.0000000100000003", bytes_of(std::string_view("a\\b\n\x01", 5)));
  EXPECT_EQ(f["content"]["desc_vpid"], 1);
  EXPECT_EQ(f["content"]["desc_fd"], 3);
  EXPECT_EQ(f["content"]["data"], "a\\\\b\\n\\x01");
  EXPECT_EQ(f["content"]["data_truncated"], false);
  Json p = decode("pipe.4711", std::vector<uint8_t>(kDataShown + 1, 'x'));
  EXPECT_EQ(p["content"]["ino"], 4711);
  EXPECT_EQ(p["content"]["size"], kDataShown + 1);
  EXPECT_EQ(p["content"]["data_shown"], kDataShown);
  EXPECT_EQ(p["content"]["data_truncated"], true);
}

}  // namespace
}  // namespace ckpt::image
