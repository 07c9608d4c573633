// CRC-32C (Castagnoli). Uses the SSE4.2 instruction when the CPU has it.
// Async-signal-safe: no allocation, no locks.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt {

// crc32c(0, buf, len) starts a checksum; pass the previous result to continue one.
uint32_t crc32c(uint32_t crc, const void* buf, size_t len);

// The checksum of A followed by B, from crc32c(0, A) and crc32c(0, B), with
// B `len_b` bytes long: checksums of pieces computed apart (by the image
// writer's compression threads) joined in order. Costs O(log len_b).
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

// The table-driven implementation that crc32c() falls back to on CPUs without
// SSE4.2; exposed so tests can check that both give the same results.
uint32_t crc32c_portable(uint32_t crc, const void* buf, size_t len);

}  // namespace ckpt
