// The pty kind's image schema: section "pty", one per image of a process
// that holds either end of a pseudo-terminal whose master is held inside the
// computation.
//
//   PtySectionHeader
//   PtyRecord[record_count]   one per descriptor (master or slave end)
//   PtyPair[pair_count]       the pairs this image leads (it holds their master
//                             with the lowest (vpid, fd) of the computation)
//   bytes[bytes_size]         the bytes each pair had queued, as PtyPair says
//
// Written by the checkpoint side (pty_save.cpp), read by the restart side
// (pty_restart.cpp, through pty_image.h) and decoded for ckpt_info
// (pty_schema.cpp).
#pragma once

#include <stdint.h>


namespace ckpt::pty {

inline constexpr char kPtySection[] = "pty";
inline constexpr uint32_t kPtySectionVersion = 1;

// The kernel's struct termios2 (<asm/termbits.h>, which does not go with
// glibc's <termios.h>): glibc's struct termios has another size and
// TCGETS2 also carries the speeds. The flag bits and c_cc indices are the
// same as glibc's.
struct KernelTermios {
  uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
  uint8_t c_line;
  uint8_t c_cc[19];
  uint32_t c_ispeed, c_ospeed;
};
static_assert(sizeof(KernelTermios) == 44, "struct termios2");

enum class PtyEnd : uint32_t {
  Master = 1,  // /dev/ptmx (posix_openpt, openpty, forkpty)
  Slave = 2,   // /dev/pts/N
};

struct PtyRecord {
  int32_t fd;
  uint32_t fd_flags;      // F_GETFD (FD_CLOEXEC)
  uint32_t status_flags;  // F_GETFL: access mode, O_NONBLOCK, O_APPEND, O_ASYNC
  PtyEnd end;
  // The pair: (vpid << 32 | fd) of its master's holder with the lowest
  // (vpid, fd) in the computation. One opening of /dev/ptmx makes one pair
  // and one master description, so this also names the master description.
  uint64_t pair_id;
  // The open file description: (vpid << 32 | fd) of the lowest holder of
  // the same one (kcmp KCMP_FILE); a slave opened twice is two descriptions.
  uint64_t desc_id;
  uint32_t index;     // N of /dev/pts/N at checkpoint
  uint32_t reserved;
};

// The state of one pair, saved by the process holding its master that
// pair_id names. Terminal settings are the slave's (the master has none a
// program can set: TCSETS on a master sets the slave's).
struct PtyPair {
  uint64_t pair_id;
  uint32_t index;  // N of /dev/pts/N at checkpoint; a restart tries to get N again
  uint32_t flags;  // kPair* below
  KernelTermios termios;
  uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
  // The session that has the slave as controlling terminal, and the
  // terminal's foreground process group (virtual ids; 0: none).
  int32_t session_vsid;
  int32_t fg_vpgid;
  // Bytes the master wrote that no reader of the slave has read yet (the
  // slave's input queue, after its line discipline), and bytes written to
  // the slave (after output processing) that the master has not read yet.
  // Offsets into the section's byte area.
  uint32_t input_offset, input_len;
  uint32_t output_offset, output_len;
};

inline constexpr uint32_t kPairPacket = 1;       // TIOCPKT on the master
inline constexpr uint32_t kPairLocked = 2;       // the slave was locked (no unlockpt yet)
inline constexpr uint32_t kPairSlaveClosed = 4;  // every slave descriptor was closed after use: the master reads EIO
inline constexpr uint32_t kPairFlags = kPairPacket | kPairLocked | kPairSlaveClosed;

struct PtySectionHeader {
  uint32_t version;
  uint32_t record_count;
  uint32_t pair_count;
  uint32_t bytes_size;
};

}  // namespace ckpt::pty
