// The pty kind (plugins/pty): section "pty" read back as ckpt_restart and
// ckpt_info read it (pty_image.h), a crafted one refused with its reason;
// and pty_refill (pty_refill.h) on real pseudo-terminals: the bytes it puts
// back read out as they went in, line boundaries and all.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "pty_image.h"
#include "pty_refill.h"
#include "section_schema.h"

namespace ckpt::pty {
namespace {

constexpr uint64_t kVpid = 4242;

struct Section {
  PtySectionHeader header{kPtySectionVersion, 0, 0, 0};
  std::vector<PtyRecord> records;
  std::vector<PtyPair> pairs;
  std::vector<uint8_t> queued;

  std::vector<uint8_t> bytes() {
    header.record_count = static_cast<uint32_t>(records.size());
    header.pair_count = static_cast<uint32_t>(pairs.size());
    header.bytes_size = static_cast<uint32_t>(queued.size());
    std::vector<uint8_t> out(sizeof header);
    std::memcpy(out.data(), &header, sizeof header);
    auto add = [&](const auto& v) {
      size_t at = out.size();
      out.resize(at + v.size() * sizeof v[0]);
      if (!v.empty()) std::memcpy(out.data() + at, v.data(), v.size() * sizeof v[0]);
    };
    add(records);
    add(pairs);
    add(queued);
    return out;
  }
};

// A parent's master at fd 3 (the pair's leader) and its slave at fd 5, a
// session it controls, "ls\n" typed ahead and "$ " not read yet.
Section sound() {
  Section s;
  const uint64_t pair_id = kVpid << 32 | 3;
  s.records.push_back({3, 0, O_RDWR, PtyEnd::Master, pair_id, pair_id, 7, 0});
  s.records.push_back({5, FD_CLOEXEC, O_RDWR, PtyEnd::Slave, pair_id, kVpid << 32 | 5, 7, 0});
  PtyPair p{};
  p.pair_id = pair_id;
  p.index = 7;
  p.termios.c_lflag = ICANON | ECHO;
  p.ws_row = 24;
  p.ws_col = 80;
  p.session_vsid = 4243;
  p.fg_vpgid = 4244;
  const std::string queued = "ls\n$ ";
  s.queued.assign(queued.begin(), queued.end());
  p.input_offset = 0;
  p.input_len = 3;
  p.output_offset = 3;
  p.output_len = 2;
  s.pairs.push_back(p);
  return s;
}

std::string refused(Section s, int32_t vpid = kVpid) {
  PtySectionData out;
  std::vector<uint8_t> b = s.bytes();
  return read_pty_section(b, vpid, out);
}

TEST(PtySection, SoundSectionReadsAndDecodes) {
  Section s = sound();
  std::vector<uint8_t> b = s.bytes();
  PtySectionData out;
  ASSERT_EQ(read_pty_section(b, kVpid, out), "");
  ASSERT_EQ(out.pairs.size(), 1u);
  image::Json d = image::decode_section(kPtySection, image::Bytes(b.data(), b.size()));
  ASSERT_TRUE(d.contains("content")) << d.dump();
  const image::Json& j = d["content"];
  EXPECT_EQ(j["descriptors"][0]["end"], "master");
  EXPECT_EQ(j["descriptors"][1]["end"], "slave");
  EXPECT_EQ(j["descriptors"][1]["cloexec"], true);
  EXPECT_EQ(j["pairs"][0]["pts"], "/dev/pts/7");
  EXPECT_EQ(j["pairs"][0]["session_vsid"], 4243);
  EXPECT_EQ(j["pairs"][0]["foreground_vpgid"], 4244);
  EXPECT_EQ(j["pairs"][0]["input"], "ls\\n");
  EXPECT_EQ(j["pairs"][0]["output"], "$ ");
  EXPECT_EQ(j["pairs"][0]["window"]["cols"], 80);
}

TEST(PtySection, RefusesQueuedBytesBeyondTheSection) {
  Section s = sound();
  s.pairs[0].output_len = 100;
  EXPECT_NE(refused(s).find("queued bytes beyond"), std::string::npos) << refused(s);
}

TEST(PtySection, RefusesAPairItsImageDoesNotHoldTheMasterOf) {
  EXPECT_NE(refused(sound(), 77).find("without holding its master"), std::string::npos);
  Section s = sound();
  s.records.erase(s.records.begin());
  EXPECT_NE(refused(s).find("without holding its master"), std::string::npos);
}

TEST(PtySection, RefusesAControllingTerminalWhoseSlaveIsClosed) {
  Section s = sound();
  s.pairs[0].flags = kPairSlaveClosed;
  EXPECT_NE(refused(s).find("controlling terminal with its slave closed"), std::string::npos);
}

TEST(PtySection, RefusesUnknownEndsFlagsAndSizes) {
  Section s = sound();
  s.records[1].end = static_cast<PtyEnd>(9);
  EXPECT_NE(refused(s).find("unknown end"), std::string::npos);
  s = sound();
  s.pairs[0].flags = 64;
  EXPECT_NE(refused(s).find("has flags"), std::string::npos);
  s = sound();
  s.records[1].fd = 3;
  EXPECT_NE(refused(s).find("fd 3 twice"), std::string::npos);
  s = sound();
  std::vector<uint8_t> b = s.bytes();
  b.pop_back();
  PtySectionData out;
  EXPECT_NE(read_pty_section(b, kVpid, out).find("need"), std::string::npos);
}

// A fresh pair: master, and a non-blocking slave of our own.
struct Pair {
  int master = -1, slave = -1;
  Pair() {
    master = posix_openpt(O_RDWR | O_NOCTTY);
    EXPECT_GE(master, 0);
    unlockpt(master);
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK);
    EXPECT_GE(slave, 0);
  }
  ~Pair() {
    close(slave);
    close(master);
  }
  KernelTermios termios() const {
    KernelTermios t{};
    EXPECT_EQ(ioctl(master, kGetTermios, &t), 0);
    return t;
  }
};

// Everything `fd` has within a short wait, non-blocking reads.
std::string drain(int fd) {
  std::string out;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) return out;
    char buf[512];
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    ssize_t n = read(fd, buf, sizeof buf);
    fcntl(fd, F_SETFL, flags);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

long refill(const Pair& p, const KernelTermios& saved, const std::string& in, const std::string& out) {
  RefillError err;
  long rc = pty_refill(p.master, p.slave, saved, false, reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                       reinterpret_cast<const uint8_t*>(out.data()), out.size(), err);
  EXPECT_EQ(rc, 0) << err.step;
  return rc;
}

TEST(PtyRefill, CanonicalInputKeepsItsLinesAndItsUnfinishedLine) {
  Pair p;
  KernelTermios saved = p.termios();  // the default: ICANON, ECHO, ICRNL, OPOST|ONLCR
  ASSERT_TRUE(saved.c_lflag & ICANON);
  // An erase character (DEL), a CR and a tab as bytes already taken once:
  // none may act again.
  const std::string in = std::string("one\x7f\r\ttwo\n") + "half";
  ASSERT_EQ(refill(p, saved, in, ""), 0);
  EXPECT_EQ(drain(p.master), "");  // no echo of the refill leaks to the master
  char buf[64];
  ssize_t n = read(p.slave, buf, sizeof buf);  // canonical: one line
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n), "one\x7f\r\ttwo\n");
  EXPECT_EQ(read(p.slave, buf, sizeof buf), -1);  // "half" is not a line yet
  EXPECT_EQ(errno, EAGAIN);
  // Finishing it the ordinary way (through the master, with echo) gives it.
  ASSERT_EQ(write(p.master, "way\n", 4), 4);
  std::string line;
  for (int i = 0; i < 50 && line.empty(); ++i) {
    n = read(p.slave, buf, sizeof buf);
    if (n > 0) line.assign(buf, n);
    else usleep(10000);
  }
  EXPECT_EQ(line, "halfway\n");
  EXPECT_EQ(drain(p.master), "way\r\n");  // the saved settings are back: echo and ONLCR
  KernelTermios now = p.termios();
  EXPECT_EQ(std::memcmp(&now, &saved, sizeof now), 0);
}

TEST(PtyRefill, OutputComesBackWithoutBeingProcessedAgain) {
  Pair p;
  KernelTermios saved = p.termios();
  ASSERT_TRUE((saved.c_oflag & OPOST) && (saved.c_oflag & ONLCR));
  const std::string out = "line\r\nno newline yet";
  ASSERT_EQ(refill(p, saved, "", out), 0);
  EXPECT_EQ(drain(p.master), out);
}

TEST(PtyRefill, NonCanonicalInputReadsWhole) {
  Pair p;
  KernelTermios saved = p.termios();
  saved.c_lflag &= ~uint32_t{ICANON | ECHO};
  ASSERT_EQ(ioctl(p.master, kSetTermios, &saved), 0);
  const std::string in = "abc\x03\x1a\n";  // ^C and ^Z: signals must not fire
  ASSERT_EQ(refill(p, saved, in, ""), 0);
  EXPECT_EQ(drain(p.slave), in);
}

TEST(PtyRefill, PacketModeComesBackAfterTheBytes) {
  Pair p;
  KernelTermios saved = p.termios();
  RefillError err;
  const std::string out = "queued";
  ASSERT_EQ(pty_refill(p.master, p.slave, saved, true, nullptr, 0, reinterpret_cast<const uint8_t*>(out.data()),
                       out.size(), err),
            0)
      << err.step;
  int packet = 0;
  ASSERT_EQ(ioctl(p.master, TIOCGPKT, &packet), 0);
  EXPECT_EQ(packet, 1);
  // In packet mode each read starts with a status byte (TIOCPKT_DATA, 0).
  EXPECT_EQ(drain(p.master), std::string(1, '\0') + out);
}

}  // namespace
}  // namespace ckpt::pty
