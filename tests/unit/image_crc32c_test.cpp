#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "crc32c.h"

namespace ckpt {
namespace {

TEST(Crc32c, MatchesKnownVectors) {
  // "123456789" is the standard check value; the others are from RFC 3720 B.4.
  EXPECT_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), inc(32);
  for (int i = 0; i < 32; i++) inc[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(0, zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(0, ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(0, inc.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(crc32c(0, nullptr, 0), 0u);
}

TEST(Crc32c, HardwareAndTablePathsAgreeOnAllLengthsAndAlignments) {
  std::vector<uint8_t> buf(3 * 8192 * 2 + 3 * 256 + 100);
  std::mt19937 rng(7);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t len : {0ul, 1ul, 7ul, 8ul, 9ul, 255ul, 767ul, 768ul, 769ul, 3000ul, 24575ul, 24576ul,
                     24577ul, 49152ul + 768ul + 5ul}) {
    for (size_t align = 0; align < 8; align++) {
      if (align + len > buf.size()) continue;
      EXPECT_EQ(crc32c(0, buf.data() + align, len), crc32c_portable(0, buf.data() + align, len))
          << "len " << len << " align " << align;
    }
  }
}

TEST(Crc32c, ContinuingEqualsOneShot) {
  std::vector<uint8_t> buf(100000);
  std::mt19937 rng(3);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  uint32_t whole = crc32c(0, buf.data(), buf.size());
  for (size_t split : {1ul, 13ul, 4096ul, 50001ul, 99999ul}) {
    uint32_t part = crc32c(0, buf.data(), split);
    EXPECT_EQ(crc32c(part, buf.data() + split, buf.size() - split), whole) << split;
    part = crc32c_portable(0, buf.data(), split);
    EXPECT_EQ(crc32c_portable(part, buf.data() + split, buf.size() - split), whole) << split;
  }
}

TEST(Crc32c, CombiningPiecesEqualsOneShot) {
  std::vector<uint8_t> buf(100000);
  std::mt19937 rng(5);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  uint32_t whole = crc32c(0, buf.data(), buf.size());
  for (size_t split : {0ul, 1ul, 13ul, 4096ul, 50001ul, 99999ul, 100000ul}) {
    uint32_t a = crc32c(0, buf.data(), split), b = crc32c(0, buf.data() + split, buf.size() - split);
    EXPECT_EQ(crc32c_combine(a, b, buf.size() - split), whole) << split;
  }
  // Many pieces folded in order, as the writer does per chunk.
  uint32_t folded = 0;
  for (size_t at = 0; at < buf.size(); at += 7919) {
    size_t n = std::min<size_t>(7919, buf.size() - at);
    folded = crc32c_combine(folded, crc32c(0, buf.data() + at, n), n);
  }
  EXPECT_EQ(folded, whole);
}

}  // namespace
}  // namespace ckpt
