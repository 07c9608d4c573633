// The one way bytes are put back into a pseudo-terminal pair (pty_refill):
// after a checkpoint (by the process that drained them) and at restart (by
// ckpt_restart, into the new pair). Raw system calls and no allocation: the checkpoint side runs it
// while the application's threads are frozen.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>

#include "ckpt/raw_syscall.h"
#include "pty_section.h"

namespace ckpt::pty {

// TCGETS2 and TCSETS2, of KernelTermios (pty_section.h).
inline constexpr unsigned long kGetTermios = _IOR('T', 0x2A, KernelTermios);
inline constexpr unsigned long kSetTermios = _IOW('T', 0x2B, KernelTermios);

// Bytes written to the master in one go while putting input back: the
// slave's echo of each chunk is read back before the next.
inline constexpr size_t kRefillChunk = 256;
// How long a refill waits for the line discipline to take a chunk.
inline constexpr int kRefillWaitMs = 3000;

// Why pty_refill failed: the step, with the negative errno it returns.
struct RefillError {
  const char* step = "";
};

namespace detail {

inline long set_termios(int master, const KernelTermios& t) {
  return raw_syscall(SYS_ioctl, master, kSetTermios, reinterpret_cast<long>(&t));
}

// A byte that `in` does not contain, to give the line editing characters
// (erase, kill, end of file ...) while `in` goes back in: they must not act
// on bytes that already went through the line discipline once. 0 if every
// value occurs (0 itself is not a choice: the kernel takes a NUL for a
// disabled editing character).
inline uint8_t unused_byte(const uint8_t* in, size_t len) {
  uint64_t seen[4] = {};
  for (size_t i = 0; i < len; ++i) seen[in[i] >> 6] |= uint64_t{1} << (in[i] & 63);
  for (int c = 0x80; c < 0x180; ++c) {  // high bytes first: the least likely in text
    int v = c & 0xff;
    if (v && !(seen[v >> 6] & (uint64_t{1} << (v & 63)))) return static_cast<uint8_t>(v);
  }
  return 0;
}

// Waits until `fd` can be read (or written, for POLLOUT) within the
// refill's patience.
inline bool wait_for(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  long rc;
  do rc = raw_syscall(SYS_poll, reinterpret_cast<long>(&p), 1, kRefillWaitMs);
  while (rc == -EINTR);
  return rc > 0 && (p.revents & events);
}

// Moves exactly `len` bytes between `buf` and the non-blocking `fd`
// (SYS_read or SYS_write), waiting for it within the refill's patience.
// Returns 0 or a negative errno (EIO for an end of file).
inline long move_all(long nr, int fd, const void* buf, size_t len) {
  const short events = nr == SYS_read ? POLLIN : POLLOUT;
  for (size_t done = 0; done < len;) {
    long n = raw_syscall(nr, fd, reinterpret_cast<long>(static_cast<const uint8_t*>(buf) + done),
                         static_cast<long>(len - done));
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n == -EINTR || (n == -EAGAIN && wait_for(fd, events))) continue;
    return n < 0 ? n : -EIO;
  }
  return 0;
}

}  // namespace detail

// The settings the input goes back in with: the saved ones where they
// decide what the queued bytes mean (canonical mode, and with it which bytes
// end a line: '\n', VEOL, VEOL2 under IEXTEN; a NUL ends one where VEOL is
// unset, which is how a typed end-of-file sits in the queue), nothing that
// would change a byte again (no ICRNL, INLCR, IGNCR, IUCLC, ISTRIP, PARMRK,
// no signal or flow control characters, editing characters on a byte the
// input does not contain), echo on with nothing special, so that the echo,
// read back from the master, tells when the line discipline has taken every
// byte; and no output processing, for the bytes written back to the slave.
inline KernelTermios refill_termios(const KernelTermios& saved, uint8_t unused) {
  KernelTermios t = saved;
  t.c_iflag &= ~uint32_t{ICRNL | INLCR | IGNCR | IUCLC | ISTRIP | PARMRK | INPCK | IXON | IXOFF | IMAXBEL};
  t.c_oflag &= ~uint32_t{OPOST};
  t.c_lflag = (saved.c_lflag & (ICANON | IEXTEN | EXTPROC)) | ECHO;
  static constexpr int kEditing[] = {VERASE, VKILL, VEOF, VWERASE, VREPRINT, VLNEXT,
                                     VDISCARD, VINTR, VQUIT, VSUSP, VSTART, VSTOP};
  for (int cc : kEditing) t.c_cc[cc] = unused;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  return t;
}

// Puts `in` back into the slave's input queue (as if the master had written
// it, with the line boundaries it had) and `out` back into the master's (as
// if the slave had written it, already processed), then gives the slave the
// `saved` settings and the master its packet mode. `master` and `slave` are
// descriptors of the pair (`slave` non-blocking, one of our own); both
// queues must be empty. Returns 0 or a negative errno, with err.step saying
// what failed.
inline long pty_refill(int master, int slave, const KernelTermios& saved, bool packet, const uint8_t* in,
                       size_t in_len, const uint8_t* out, size_t out_len, RefillError& err) {
  long flags = raw_syscall(SYS_fcntl, master, F_GETFL);
  if (flags < 0) return err.step = "F_GETFL of the master", flags;
  int packet_off = 0;
  raw_syscall(SYS_ioctl, master, TIOCPKT, reinterpret_cast<long>(&packet_off));
  raw_syscall(SYS_fcntl, master, F_SETFL, flags | O_NONBLOCK);
  long rc = 0;
  uint8_t unused = detail::unused_byte(in, in_len);
  if (in_len && !unused) {
    err.step = "choosing editing characters (the queued input holds every byte value)";
    rc = -EINVAL;
  }
  if (rc == 0 && (rc = detail::set_termios(master, refill_termios(saved, unused))) < 0) err.step = "TCSETS2 (refill settings)";
  for (size_t done = 0; rc == 0 && done < in_len;) {
    size_t chunk = in_len - done < kRefillChunk ? in_len - done : kRefillChunk;
    // Then the echo of exactly these bytes: the line discipline has them.
    uint8_t echo[kRefillChunk];
    if ((rc = detail::move_all(SYS_write, master, in + done, chunk)) < 0) err.step = "writing the queued input to the master";
    else if ((rc = detail::move_all(SYS_read, master, echo, chunk)) < 0) err.step = "waiting for the slave to take the queued input";
    done += chunk;
  }
  if (rc == 0 && (rc = detail::move_all(SYS_write, slave, out, out_len)) < 0) err.step = "writing the unread output to the slave";
  // The saved settings, whatever failed: with the same ICANON bit, setting
  // them keeps the queue and its line boundaries as they are.
  long set = detail::set_termios(master, saved);
  if (rc == 0 && set < 0) rc = set, err.step = "TCSETS2 (saved settings)";
  raw_syscall(SYS_fcntl, master, F_SETFL, flags);
  int packet_on = 1;
  if (packet) raw_syscall(SYS_ioctl, master, TIOCPKT, reinterpret_cast<long>(&packet_on));
  return rc;
}

}  // namespace ckpt::pty
