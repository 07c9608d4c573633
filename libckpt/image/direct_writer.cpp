#include "direct_writer.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"

namespace ckpt::image {
namespace {

constexpr size_t kBufferSize = 8u << 20;
// A buffer goes to the thread once this much is in it (in whole blocks).
constexpr size_t kHandOver = 4u << 20;
// The unit of a direct write that every Linux file system and disk accepts.
constexpr size_t kBlock = 4096;
constexpr size_t kThreadStack = 64u << 10;

}  // namespace

int DirectWriter::start(int direct_fd, int buffered_fd) {
  stop();
  memory_ = map_anonymous(kBuffers * kBufferSize);
  if (!memory_) return -ENOMEM;
  for (int i = 0; i < kBuffers; ++i) {
    buffers_[i].data = memory_ + i * kBufferSize;
    buffers_[i].off = buffers_[i].len = 0;
    buffers_[i].state.store(kFree, std::memory_order_relaxed);
  }
  direct_fd_ = direct_fd;
  buffered_fd_ = buffered_fd;
  direct_ = true;
  current_ = 0;
  off_ = fill_ = 0;
  error_.store(0, std::memory_order_relaxed);
  int rc = thread_.start(&DirectWriter::thread_main, this, kThreadStack);
  if (rc < 0) {
    raw_syscall(SYS_munmap, reinterpret_cast<long>(memory_), static_cast<long>(kBuffers * kBufferSize));
    memory_ = nullptr;
  }
  return rc;
}

void DirectWriter::thread_main(void* self) { static_cast<DirectWriter*>(self)->run(); }

// The buffers are written in turn, as the writer fills them.
void DirectWriter::run() {
  for (int i = 0;; i = (i + 1) % kBuffers) {
    Buffer& b = buffers_[i];
    uint32_t s;
    while ((s = b.state.load(std::memory_order_acquire)) == kFree) futex_wait(b.state, kFree);
    if (s == kStop) return;
    if (!error()) write_out(b);  // a failure is kept in error_: the writer sees it at its next call
    b.state.store(kFree, std::memory_order_release);
    futex_wake(b.state, 1);
  }
}

bool DirectWriter::write_out(const Buffer& b) {
  for (size_t done = 0; done < b.len;) {
    const int fd = direct_ ? direct_fd_ : buffered_fd_;
    long n = raw_syscall(SYS_pwrite64, fd, reinterpret_cast<long>(b.data + done), static_cast<long>(b.len - done),
                         static_cast<long>(b.off + done));
    if (n == -EINTR) continue;
    if (n == -EINVAL && direct_) {  // no O_DIRECT for this file after all: through the page cache
      direct_ = false;
      continue;
    }
    if (n < 0 || n == 0) {
      error_.store(n < 0 ? static_cast<uint32_t>(-n) : ENOSPC, std::memory_order_release);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool DirectWriter::wait_free(Buffer& b) {
  uint32_t s;
  while ((s = b.state.load(std::memory_order_acquire)) != kFree) futex_wait(b.state, s);
  return !error();
}

bool DirectWriter::hand_over(bool all) {
  Buffer& cur = buffers_[current_];
  const size_t out = all ? (fill_ + kBlock - 1) & ~(kBlock - 1) : fill_ & ~(kBlock - 1);
  if (out == 0) return true;  // not a whole block yet
  if (out > fill_) memset(cur.data + fill_, 0, out - fill_);
  Buffer& next = buffers_[(current_ + 1) % kBuffers];
  if (!wait_free(next)) return false;
  // The partial block at the end starts the next buffer.
  const size_t kept = fill_ > out ? fill_ - out : 0;
  memcpy(next.data, cur.data + out, kept);
  cur.off = off_;
  cur.len = out;
  cur.state.store(kFull, std::memory_order_release);
  futex_wake(cur.state, 1);
  current_ = (current_ + 1) % kBuffers;
  off_ += out;
  fill_ = kept;
  return true;
}

bool DirectWriter::write(uint64_t off, const void* buf, size_t len) {
  if (error()) return false;
  auto p = static_cast<const char*>(buf);
  while (len) {
    const uint64_t end = off_ + fill_;
    if (off < end) {
      error_.store(EINVAL, std::memory_order_release);
      return false;
    }
    char* data = buffers_[current_].data;
    size_t room = kBufferSize - fill_;
    const uint64_t gap = off - end;  // becomes zeros, as in a sparse file
    const size_t zeros = gap < room ? static_cast<size_t>(gap) : room;
    memset(data + fill_, 0, zeros);
    fill_ += zeros;
    room -= zeros;
    const size_t piece = len < room ? len : room;
    memcpy(data + fill_, p, piece);
    fill_ += piece;
    p += piece;
    off += piece;
    len -= piece;
    if (fill_ >= kHandOver && !hand_over(false)) return false;
  }
  return true;
}

bool DirectWriter::finish() {
  if (error()) return false;
  if (fill_ && !hand_over(true)) return false;
  for (Buffer& b : buffers_)
    if (!wait_free(b)) return false;
  return true;
}

void DirectWriter::stop() {
  if (thread_.running()) {
    // The thread takes the buffers in turn: the one it waits on next is the
    // first not full. Every free buffer is marked as the end; a full one it
    // writes and frees, and is marked on the next pass.
    for (;;) {
      bool all_stop = true;
      for (Buffer& b : buffers_) {
        uint32_t expected = kFree;
        if (b.state.compare_exchange_strong(expected, kStop, std::memory_order_acq_rel)) futex_wake(b.state, 1);
        if (b.state.load(std::memory_order_acquire) != kStop) all_stop = false;
      }
      if (all_stop) break;
      raw_syscall(SYS_sched_yield);
    }
    thread_.join();
  }
  if (memory_) raw_syscall(SYS_munmap, reinterpret_cast<long>(memory_), static_cast<long>(kBuffers * kBufferSize));
  memory_ = nullptr;
}

}  // namespace ckpt::image
