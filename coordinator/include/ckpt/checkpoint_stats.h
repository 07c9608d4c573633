// The figures of checkpoints and restarts (issue 11, as CRIU's stats): what
// each process counted, in the image (section "stats", image/stats_section.h)
// and on the wire (protocol.h: WRITTEN and REFILLED carry them). Plain
// structs that libckpt's snapshot child fills without allocating; the
// coordinator adds them up per checkpoint.
//
// A page of a region whose bytes the image may hold is scanned, and then
// either written or skipped for exactly one reason, so
//   pages_scanned == pages_written + the four pages_skipped_*.
// Regions with no bytes of their own (shared file mappings, guard pages,
// [vdso], memory a plugin saves elsewhere) are not scanned.
#pragma once

#include <stdint.h>

namespace ckpt::stats {

inline constexpr uint32_t kVersion = 1;
inline constexpr uint64_t kPageSize = 4096;  // x86-64, the only architecture
// No count can exceed the pages of x86-64 user space (47 bits), no duration
// ten days: a peer's figures past these are lies, and the bounds keep every
// sum of up to 2^20 processes from overflowing.
inline constexpr uint64_t kMaxPages = (uint64_t{1} << 47) / kPageSize;
inline constexpr uint64_t kMaxNs = uint64_t{10} * 24 * 3600 * 1'000'000'000;

// Counted by a process's image writer (the snapshot child).
struct ImageFigures {
  uint64_t pages_scanned;
  uint64_t pages_skipped_untouched;  // never touched: not in the page tables
  uint64_t pages_skipped_zero;       // all zeros, or the kernel's shared zero page
  uint64_t pages_skipped_file;       // clean pages of a private file mapping: the file has them
  uint64_t pages_skipped_unchanged;  // unchanged since the parent image (inherited by an incremental image)
  uint64_t pages_written;
  uint64_t bytes_raw;         // bytes of the pages written: pages_written * kPageSize
  uint64_t bytes_compressed;  // those bytes as stored: chunks with their headers (lz4 blocks, or the raw bytes
                              // in an uncompressed image)
  uint64_t write_ns;          // from the writer's start until every page is written (CLOCK_MONOTONIC)
};

// After the WrittenPayload's fields (protocol.h): the image's figures and
// what only the end of the write knows.
struct WrittenFigures {
  uint32_t version;  // kVersion; 0: the sender counted nothing (a libckpt older than the figures)
  uint32_t reserved;
  ImageFigures image;
  uint64_t sync_ns;  // committing the image: metadata and header written, fsync, rename, fsync of the directory
};

// Reached(REFILLED) of a checkpoint.
struct RefilledFigures {
  uint32_t version;  // kVersion
  uint32_t reserved;
  // How long the application's threads were stopped: from the suspend
  // signal to this answer, sent right before they are woken.
  uint64_t pause_ns;
};

// Reached(REFILLED) of a restart.
struct RestartFigures {
  uint32_t version;  // kVersion
  uint32_t lazy;     // 1: some memory is read from the image on first touch (uncompressed images, lazy restarts)
  // From ckpt_restart's start (on this process's host) to this answer, sent
  // right before the restored threads run.
  uint64_t running_ns;
};

// Why a peer's figures cannot be true, or nullptr. The coordinator refuses
// what fails this (the checkpoint goes on without them) and ckpt_info shows
// the reason beside a section that fails it.
inline const char* check(const ImageFigures& f) {
  const uint64_t counts[] = {f.pages_scanned,      f.pages_skipped_untouched, f.pages_skipped_zero,
                             f.pages_skipped_file, f.pages_skipped_unchanged, f.pages_written};
  for (uint64_t c : counts)
    if (c > kMaxPages) return "a page count is larger than the address space";
  if (f.pages_written + f.pages_skipped_untouched + f.pages_skipped_zero + f.pages_skipped_file +
          f.pages_skipped_unchanged !=
      f.pages_scanned)
    return "the pages written and skipped do not add up to the pages scanned";
  if (f.bytes_raw != f.pages_written * kPageSize) return "bytes_raw is not the pages written";
  // An lz4 chunk holds at least one page and adds a 16-byte header.
  if (f.bytes_compressed > f.bytes_raw + 16 * f.pages_written) return "bytes_compressed exceeds what lz4 can store";
  if (f.write_ns > kMaxNs) return "write time out of range";
  return nullptr;
}

inline const char* check(const WrittenFigures& f) {
  if (f.version != kVersion) return "unknown figures version";
  if (f.sync_ns > kMaxNs) return "sync time out of range";
  return check(f.image);
}

}  // namespace ckpt::stats
