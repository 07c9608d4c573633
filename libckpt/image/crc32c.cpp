// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
//
// The hardware path runs three independent crc32 instruction streams over
// three adjacent blocks, because the instruction has a latency of 3 cycles but
// a throughput of 1 per cycle: one stream alone leaves the unit two thirds
// idle. The three partial checksums are then joined by "shifting" the earlier
// ones over the bytes that follow them, a linear map on the 32-bit state that
// is applied with four 256-entry tables, computed at compile time (method of
// Mark Adler's crc32c.c). Everything here is async-signal-safe: no allocation,
// no lazy initialisation that could race, only a cached cpuid result.
#include "crc32c.h"

#include <cpuid.h>
#include <nmmintrin.h>
#include <string.h>

#include <array>

namespace ckpt {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;

using Table = std::array<std::array<uint32_t, 256>, 8>;

// Slicing-by-8 tables for the portable path.
constexpr Table make_slice_tables() {
  Table t{};
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ kPoly : c >> 1;
    t[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++)
    for (int k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
  return t;
}
constexpr Table kSlice = make_slice_tables();

// Polynomial arithmetic modulo P in the reflected representation (bit 31 is x^0).
constexpr uint32_t multmodp(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = b & 1 ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// x^(8 * bytes) mod P.
constexpr uint32_t x8nmodp(size_t bytes) {
  uint32_t result = 1u << 31;  // x^0
  uint32_t square = 1u << 23;  // x^8
  while (bytes) {
    if (bytes & 1) result = multmodp(square, result);
    square = multmodp(square, square);
    bytes >>= 1;
  }
  return result;
}

using ShiftTable = std::array<std::array<uint32_t, 256>, 4>;

// Tables applying "append `bytes` zero bytes" to a raw crc state.
constexpr ShiftTable make_shift_table(size_t bytes) {
  ShiftTable t{};
  uint32_t op = x8nmodp(bytes);
  for (uint32_t n = 0; n < 256; n++)
    for (int k = 0; k < 4; k++) t[k][n] = multmodp(op, n << (8 * k));
  return t;
}

// Block sizes of the 3-way loop: a long one for bulk data, a short one so that
// mid-sized buffers (a few KiB) still run interleaved.
constexpr size_t kLong = 8192;
constexpr size_t kShort = 256;
constexpr ShiftTable kShiftLong = make_shift_table(kLong);
constexpr ShiftTable kShiftShort = make_shift_table(kShort);

inline uint32_t shift(const ShiftTable& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

uint32_t crc32c_sw(uint32_t crc, const unsigned char* p, size_t len) {
  crc = ~crc;
  while (len && (reinterpret_cast<uintptr_t>(p) & 7)) {
    crc = (crc >> 8) ^ kSlice[0][(crc ^ *p++) & 0xff];
    len--;
  }
  while (len >= 8) {
    uint64_t v = load64(p) ^ crc;
    crc = kSlice[7][v & 0xff] ^ kSlice[6][(v >> 8) & 0xff] ^ kSlice[5][(v >> 16) & 0xff] ^
          kSlice[4][(v >> 24) & 0xff] ^ kSlice[3][(v >> 32) & 0xff] ^ kSlice[2][(v >> 40) & 0xff] ^
          kSlice[1][(v >> 48) & 0xff] ^ kSlice[0][v >> 56];
    p += 8;
    len -= 8;
  }
  while (len--) crc = (crc >> 8) ^ kSlice[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

__attribute__((target("sse4.2"))) uint64_t crc_block3(uint64_t crc0, const unsigned char*& p,
                                                      size_t block, const ShiftTable& t) {
  uint64_t crc1 = 0, crc2 = 0;
  const unsigned char* end = p + block;
  do {
    crc0 = _mm_crc32_u64(crc0, load64(p));
    crc1 = _mm_crc32_u64(crc1, load64(p + block));
    crc2 = _mm_crc32_u64(crc2, load64(p + 2 * block));
    p += 8;
  } while (p < end);
  crc0 = shift(t, static_cast<uint32_t>(crc0)) ^ crc1;
  crc0 = shift(t, static_cast<uint32_t>(crc0)) ^ crc2;
  p += 2 * block;
  return crc0;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hw(uint32_t crc, const unsigned char* p,
                                                     size_t len) {
  uint64_t c = ~crc;
  while (len && (reinterpret_cast<uintptr_t>(p) & 7)) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    len--;
  }
  for (; len >= 3 * kLong; len -= 3 * kLong) c = crc_block3(c, p, kLong, kShiftLong);
  for (; len >= 3 * kShort; len -= 3 * kShort) c = crc_block3(c, p, kShort, kShiftShort);
  for (; len >= 8; len -= 8, p += 8) c = _mm_crc32_u64(c, load64(p));
  while (len--) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
  return ~static_cast<uint32_t>(c);
}

// 0 = not probed yet, 1 = table, 2 = sse4.2. Probing is idempotent, so a race
// between two first callers is harmless.
int g_impl = 0;

bool have_sse42() {
  int impl = __atomic_load_n(&g_impl, __ATOMIC_RELAXED);
  if (impl == 0) {
    unsigned a, b, c, d;
    impl = (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2)) ? 2 : 1;
    __atomic_store_n(&g_impl, impl, __ATOMIC_RELAXED);
  }
  return impl == 2;
}

}  // namespace

uint32_t crc32c(uint32_t crc, const void* buf, size_t len) {
  auto p = static_cast<const unsigned char*>(buf);
  return have_sse42() ? crc32c_hw(crc, p, len) : crc32c_sw(crc, p, len);
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b) {
  // Appending B to A multiplies A's (finished) checksum by x^(8 len_b) mod P;
  // the pre- and post-inversions cancel out (as in zlib's crc32_combine).
  return multmodp(x8nmodp(len_b), crc_a) ^ crc_b;
}

// Exposed for the unit test, which checks that both paths agree.
uint32_t crc32c_portable(uint32_t crc, const void* buf, size_t len) {
  return crc32c_sw(crc, static_cast<const unsigned char*>(buf), len);
}

}  // namespace ckpt
