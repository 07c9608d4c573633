/* The 64-bit finalizer the test programs derive their data from: a value
 * per step or page that an uninterrupted run and a restarted one must agree
 * on, cheap to recompute when checking. */
#pragma once

#include <stdint.h>

static inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}
