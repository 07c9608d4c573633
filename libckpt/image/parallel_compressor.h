// Compresses an image's chunks on worker threads while the image writer goes
// on copying region bytes and writing the chunks already compressed, in
// order, so that the image is byte for byte the one the serial writer makes.
//
// It runs where the image writer runs, in the snapshot child: the workers
// are RawThreads (raw_thread.h), running only lz4 with a caller-provided
// state, crc32c, atomics and raw futex calls. stop() waits for every one to
// exit: no worker outlives the compressor.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "image_format.h"
#include "raw_thread.h"

namespace ckpt::image {

// Workers the writer starts for compression when asked for "as many as the
// CPUs": more than this buys little (the writer's copying and the disk set
// the pace) and costs two chunk buffers each.
inline constexpr int kAutoCompressThreads = 8;

// How one raw chunk is stored: ChunkHeader + lz4 block in `out`, or, when lz4
// cannot shrink it, a ChunkHeader with kChunkStored in `out` followed by the
// raw bytes themselves (`in`). The serial writer and the workers both use
// it, which is what keeps their images identical.
struct CompressedChunk {
  const char* head;  // ChunkHeader (+ block): write first
  uint32_t head_size;
  const char* tail;  // the raw bytes of a stored chunk, else nullptr
  uint32_t tail_size;
  uint32_t raw_size;
  uint32_t raw_crc;  // CRC-32C of the raw bytes
};
// Bytes of lz4 state compress_chunk needs, and of the output buffer for a
// chunk of kChunkSize raw bytes.
size_t chunk_state_size();
size_t chunk_out_capacity();
CompressedChunk compress_chunk(void* state, const char* in, uint32_t raw_size, char* out);

// The number of workers `requested` asks for: itself (capped at
// CKPT_MAX_COMPRESS_THREADS, ckpt/environment.h), or for 0 the CPUs this process may run on
// (sched_getaffinity), capped at kAutoCompressThreads. 1 means "compress in
// the writer's own thread".
int compress_threads(int requested);

class ParallelCompressor {
 public:
  ParallelCompressor() = default;
  ParallelCompressor(const ParallelCompressor&) = delete;
  ParallelCompressor& operator=(const ParallelCompressor&) = delete;
  ~ParallelCompressor() { stop(); }

  // Maps workers + 2 chunk slots and starts `workers` (>= 1) threads. On
  // failure returns a negative errno, with nothing left running or mapped.
  int start(int workers);
  // Lets the workers finish the chunk in hand, waits until every one has
  // exited, and unmaps everything; chunks not yet taken are dropped. Safe
  // to call when not started and twice.
  void stop();
  bool running() const { return nslots_ != 0; }

  // The buffer (kChunkSize bytes) the next chunk's raw bytes go into; only
  // while !full().
  char* input() { return slot(submitted_).in; }
  bool full() const { return submitted_ - retired_ == nslots_; }
  // Hands the input() buffer, holding `raw_size` bytes, to the workers; or
  // with `bytes`, those instead, where they are (they must neither change
  // nor go away until the chunk is released).
  void submit(uint32_t raw_size, const char* bytes = nullptr);
  // The oldest chunk handed over and not yet released, once compressed:
  // with `wait`, after waiting for it (compressing chunks no worker took
  // yet meanwhile); without, nullptr if it is not ready. nullptr when no
  // chunk is outstanding.
  const CompressedChunk* oldest(bool wait);
  // The oldest chunk is written: its slot takes new input.
  void release() { slot(retired_++).state.store(kFree, std::memory_order_relaxed); }

 private:
  enum : uint32_t { kFree, kSubmitted, kDone };
  struct Slot {
    char* in;
    char* out;
    const char* src;  // what is compressed: `in`, or the bytes submit() was given
    uint32_t raw_size;
    CompressedChunk result;
    std::atomic<uint32_t> state;  // futex word: kFree, kSubmitted, kDone
  };
  struct Worker {
    ParallelCompressor* owner;
    RawThread thread;  // its extra memory: the lz4 state
  };

  Slot& slot(uint32_t seq) { return slots_[seq % nslots_]; }
  static void worker_main(void* arg);
  void work(Worker& w);
  void unmap_all();

  // Everything below lives in one mapping (slots_, workers_) or its own
  // (buffers, stacks): the writer may not allocate.
  Slot* slots_ = nullptr;
  uint32_t nslots_ = 0;
  Worker* workers_ = nullptr;
  int nworkers_ = 0;
  char* control_ = nullptr;  // the mapping holding slots_, workers_ and own_state_
  void* own_state_ = nullptr;  // lz4 state for the chunks the writer's thread compresses itself
  size_t control_size_ = 0;
  char* buffers_ = nullptr;  // every slot's in and out
  size_t buffers_size_ = 0;
  // Writer side: chunks handed over and chunks released, counted from 0.
  uint32_t submitted_ = 0;
  uint32_t retired_ = 0;
  // Shared with the workers.
  std::atomic<uint32_t> published_{0};  // chunks the workers may take
  std::atomic<uint32_t> claimed_{0};    // chunks a worker took
  std::atomic<uint32_t> stopping_{0};
  std::atomic<uint32_t> wake_{0};  // futex word the idle workers sleep on: bumped by submit and stop
};

}  // namespace ckpt::image
