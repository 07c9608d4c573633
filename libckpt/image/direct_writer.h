// Writes a durable image's region data with O_DIRECT, on a thread of its own.
//
// A buffered write copies every byte into fresh page cache (on this VM the
// largest cost of writing a compressed image: ~0.9 GB/s), only for fsync to
// send it all to the disk at the end. A direct write goes from our buffer to
// the disk. But it blocks its caller for as long as the disk takes, so the
// writer would stop copying pages and feeding the compression workers while
// it waits: here the writer fills one page-aligned buffer while this class's
// thread writes the one before.
//
// Bytes come at strictly increasing file offsets (gaps become zeros) and go
// out in whole blocks; finish() pads the last block with zeros, which the
// caller overwrites or cuts off (ftruncate). If the file system refuses the
// first direct write (EINVAL), everything goes through `buffered_fd`
// instead. Async-signal-safe: raw system calls, mmap'd buffers, a RawThread.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "raw_thread.h"

namespace ckpt::image {

class DirectWriter {
 public:
  DirectWriter() = default;
  DirectWriter(const DirectWriter&) = delete;
  DirectWriter& operator=(const DirectWriter&) = delete;
  ~DirectWriter() { stop(); }

  // Maps the buffers and starts the thread; 0 or -errno (nothing left
  // running or mapped). The descriptors stay the caller's, open until
  // stop().
  int start(int direct_fd, int buffered_fd);
  bool running() const { return thread_.running(); }
  // Appends `len` bytes that belong at file offset `off`. False once a
  // write failed: error() says why (an errno).
  bool write(uint64_t off, const void* buf, size_t len);
  // Writes out what is left (the last block padded) and waits for every
  // write; false if one failed.
  bool finish();
  // Waits for the thread to end (abandoning what was not written yet) and
  // unmaps everything. Safe when not started and twice.
  void stop();
  int error() const { return error_.load(std::memory_order_acquire); }

 private:
  static constexpr int kBuffers = 3;
  enum : uint32_t { kFree, kFull, kStop };
  struct Buffer {
    char* data;
    uint64_t off;  // file offset of data[0]
    size_t len;    // bytes to write (whole blocks)
    std::atomic<uint32_t> state;  // futex word
  };
  static void thread_main(void* self);
  void run();
  bool write_out(const Buffer& b);
  // Hands the current buffer's whole blocks (all of it, padded, with `all`)
  // to the thread and moves on to the next buffer.
  bool hand_over(bool all);
  bool wait_free(Buffer& b);

  Buffer buffers_[kBuffers] = {};
  char* memory_ = nullptr;
  int direct_fd_ = -1, buffered_fd_ = -1;
  bool direct_ = true;  // thread side: false once the file system refused O_DIRECT
  int current_ = 0;     // the buffer being filled
  uint64_t off_ = 0;    // file offset of the current buffer's first byte
  size_t fill_ = 0;
  std::atomic<uint32_t> error_{0};
  RawThread thread_;
};

}  // namespace ckpt::image
