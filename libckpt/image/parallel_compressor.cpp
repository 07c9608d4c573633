// The image writer's compression workers (see parallel_compressor.h for why
// they are raw clones). Everything a worker runs is in this file, lz4 and
// crc32c: no errno (raw system calls return -errno), no TLS, no allocation.
#include "parallel_compressor.h"

#include <linux/futex.h>
#include <lz4.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <new>

#include "ckpt/environment.h"
#include "ckpt/raw_syscall.h"
#include "crc32c.h"
#include "raw_thread.h"

namespace ckpt::image {
namespace {

constexpr int kLz4Acceleration = 1;
constexpr size_t kPage = 4096;
// A worker's stack: lz4 and crc32c need little.
constexpr size_t kWorkerStack = 64 << 10;

size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

size_t chunk_state_size() { return align_up(LZ4_sizeofState(), 64); }

size_t chunk_out_capacity() { return sizeof(ChunkHeader) + LZ4_compressBound(kChunkSize); }

CompressedChunk compress_chunk(void* state, const char* in, uint32_t raw_size, char* out) {
  auto* hdr = reinterpret_cast<ChunkHeader*>(out);
  char* block = out + sizeof(ChunkHeader);
  const int block_cap = static_cast<int>(chunk_out_capacity() - sizeof(ChunkHeader));
  const uint32_t raw_crc = crc32c(0, in, raw_size);
  int z = LZ4_compress_fast_extState(state, in, block, static_cast<int>(raw_size), block_cap, kLz4Acceleration);
  if (z > 0 && static_cast<uint32_t>(z) < raw_size) {
    *hdr = ChunkHeader{raw_size, static_cast<uint32_t>(z), crc32c(0, block, z), 0};
    return {out, static_cast<uint32_t>(sizeof(*hdr) + z), nullptr, 0, raw_size, raw_crc};
  }
  *hdr = ChunkHeader{raw_size, raw_size, raw_crc, kChunkStored};
  return {out, static_cast<uint32_t>(sizeof(*hdr)), in, raw_size, raw_size, raw_crc};
}

int compress_threads(int requested) {
  if (requested > 0) return requested < CKPT_MAX_COMPRESS_THREADS ? requested : CKPT_MAX_COMPRESS_THREADS;
  uint64_t mask[16] = {};  // 1024 CPUs
  long n = raw_syscall(SYS_sched_getaffinity, 0, sizeof mask, reinterpret_cast<long>(mask));
  if (n <= 0) return 1;
  int cpus = 0;
  // Bit by bit: __builtin_popcountll would pull libgcc_s into libckpt.so
  // on CPUs without the popcnt instruction baseline.
  for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(uint64_t); ++i)
    for (uint64_t m = mask[i]; m; m &= m - 1) cpus++;
  if (cpus < 1) return 1;
  return cpus < kAutoCompressThreads ? cpus : kAutoCompressThreads;
}

int ParallelCompressor::start(int workers) {
  stop();
  if (workers < 1 || workers > CKPT_MAX_COMPRESS_THREADS) return -EINVAL;
  // One chunk being filled, one being written, the rest compressing.
  const uint32_t nslots = static_cast<uint32_t>(workers) + 2;
  control_size_ = align_up(nslots * sizeof(Slot) + workers * sizeof(Worker), kPage) + chunk_state_size();
  control_ = map_anonymous(control_size_);
  const size_t in_size = kChunkSize, out_size = align_up(chunk_out_capacity(), kPage);
  buffers_size_ = nslots * (in_size + out_size);
  buffers_ = control_ ? map_anonymous(buffers_size_) : nullptr;
  if (!buffers_) {
    unmap_all();
    return -ENOMEM;
  }
  slots_ = reinterpret_cast<Slot*>(control_);
  for (uint32_t i = 0; i < nslots; ++i) {
    char* base = buffers_ + i * (in_size + out_size);
    new (&slots_[i]) Slot{base, base + in_size, base, 0, {}, {kFree}};
  }
  workers_ = reinterpret_cast<Worker*>(control_ + nslots * sizeof(Slot));
  own_state_ = control_ + control_size_ - chunk_state_size();
  nslots_ = nslots;
  submitted_ = retired_ = 0;
  published_.store(0);
  claimed_.store(0);
  stopping_.store(0);
  wake_.store(0);

  // One small chunk compressed here first: where lz4 is a shared library
  // bound lazily (the tools, the tests; libckpt.so links it in and binds
  // now), the dynamic loader resolves it in this thread, not in a worker
  // that shares this thread's TLS.
  compress_chunk(own_state_, slots_[0].in, 64, slots_[0].out);
  int err = 0;
  for (int i = 0; i < workers && !err; ++i) {
    Worker* w = new (&workers_[i]) Worker{this, {}};
    nworkers_ = i + 1;
    err = w->thread.start(&ParallelCompressor::worker_main, w, kWorkerStack, chunk_state_size());
  }
  if (err) stop();
  return err;
}

void ParallelCompressor::worker_main(void* arg) {
  auto* w = static_cast<Worker*>(arg);
  w->owner->work(*w);
}

void ParallelCompressor::work(Worker& w) {
  void* state = w.thread.extra_memory();
  for (;;) {
    // Read the wake word first: a submit or stop after this read changes
    // it, so the wait below cannot sleep through them.
    const uint32_t seen = wake_.load(std::memory_order_acquire);
    if (stopping_.load(std::memory_order_acquire)) return;
    uint32_t c = claimed_.load(std::memory_order_relaxed);
    if (c != published_.load(std::memory_order_acquire)) {
      if (!claimed_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel)) continue;
      Slot& s = slot(c);
      s.result = compress_chunk(state, s.src, s.raw_size, s.out);
      s.state.store(kDone, std::memory_order_release);
      futex_wake(s.state, 1);
      continue;
    }
    futex_wait(wake_, seen);
  }
}

void ParallelCompressor::submit(uint32_t raw_size, const char* bytes) {
  Slot& s = slot(submitted_);
  s.raw_size = raw_size;
  s.src = bytes ? bytes : s.in;
  s.state.store(kSubmitted, std::memory_order_relaxed);
  published_.store(++submitted_, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_release);
  futex_wake(wake_, 1);
}

const CompressedChunk* ParallelCompressor::oldest(bool wait) {
  if (retired_ == submitted_) return nullptr;
  Slot& s = slot(retired_);
  for (;;) {
    uint32_t st = s.state.load(std::memory_order_acquire);
    if (st == kDone) return &s.result;
    if (!wait) return nullptr;
    // Rather than wait, compress a chunk no worker took yet: on a busy
    // machine the workers may not get a CPU for a while.
    uint32_t c = claimed_.load(std::memory_order_relaxed);
    if (c != published_.load(std::memory_order_acquire) &&
        claimed_.compare_exchange_strong(c, c + 1, std::memory_order_acq_rel)) {
      Slot& mine = slot(c);
      mine.result = compress_chunk(own_state_, mine.src, mine.raw_size, mine.out);
      mine.state.store(kDone, std::memory_order_release);
      continue;
    }
    futex_wait(s.state, st);
  }
}

void ParallelCompressor::stop() {
  if (!control_) return;
  stopping_.store(1, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_release);
  futex_wake(wake_, nworkers_);
  for (int i = 0; i < nworkers_; ++i) workers_[i].thread.join();
  unmap_all();
}

void ParallelCompressor::unmap_all() {
  for (int i = 0; i < nworkers_; ++i) workers_[i].thread.~RawThread();
  if (buffers_) raw_syscall(SYS_munmap, reinterpret_cast<long>(buffers_), static_cast<long>(buffers_size_));
  if (control_) raw_syscall(SYS_munmap, reinterpret_cast<long>(control_), static_cast<long>(control_size_));
  buffers_ = control_ = nullptr;
  slots_ = nullptr;
  workers_ = nullptr;
  own_state_ = nullptr;
  nslots_ = 0;
  nworkers_ = 0;
  submitted_ = retired_ = 0;
}

}  // namespace ckpt::image
