#include "classify.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "proc_fds.h"
#include "ckpt/frozen_io.h"
#include "std_streams.h"

namespace ckpt::fd {
namespace {

using image::FdKind;
using image::FdRecord;

constexpr char kDeletedSuffix[] = " (deleted)";

bool has_prefix(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

// Whether the file open as `fd` is unlinked; if so its path loses the
// " (deleted)" the kernel appends. (A name that merely ends with those words
// has links and is kept as it is.)
bool take_deleted(int fd, char* path) {
  size_t len = strlen(path), suffix = sizeof kDeletedSuffix - 1;
  if (len < suffix || strcmp(path + len - suffix, kDeletedSuffix) != 0) return false;
  struct stat st;
  if (raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) != 0 || st.st_nlink != 0) return false;
  path[len - suffix] = '\0';
  return true;
}

// Character devices any process can reopen by path with the same effect.
bool is_plain_device(const char* path) {
  static const char* const kDevices[] = {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full"};
  for (const char* d : kDevices)
    if (strcmp(path, d) == 0) return true;
  return false;
}

bool is_terminal(int fd) {
  // TCGETS only reads the settings; a non-terminal answers ENOTTY.
  char termios[64];
  return raw_syscall(SYS_ioctl, fd, TCGETS, reinterpret_cast<long>(termios)) == 0;
}

// The pipe rule: an end whose other end is open but held by no process of
// the computation talks to the outside world (a shell pipeline). Such an end
// is one of the computation's standard streams if it sits at 0-2, otherwise
// it cannot be restored. An end whose other end is closed everywhere is an
// ordinary pipe (restart recreates it with that end closed).
void classify_pipe(FdRecord& r, HolderTable& holders) {
  r.kind = FdKind::Pipe;
  uint32_t mine = access_of(r.status_flags);
  if (mine == (kRead | kWrite)) return;
  uint32_t other = mine == kRead ? kWrite : kRead;
  if (holders.end_held(r.dev, r.ino, other)) return;
  // No writers left: POLLHUP on a read end; no readers left: POLLERR on a
  // write end. Either way the other end is closed, not outside.
  struct pollfd p = {r.fd, 0, 0};
  if (raw_syscall(SYS_poll, reinterpret_cast<long>(&p), 1, 0) < 0) return;
  if (p.revents & (other == kWrite ? POLLHUP : POLLERR)) return;
  if (r.fd <= 2) {
    r.kind = FdKind::Stdio;
    r.stdio_index = static_cast<uint32_t>(r.fd);
  } else {
    r.kind = FdKind::Inherited;
  }
}

void copy_text(char* out, size_t cap, const char* text) {
  size_t n = strlen(text);
  if (n >= cap) n = cap - 1;
  memcpy(out, text, n);
  out[n] = '\0';
}

struct Name {
  const char* inode;  // what readlink says after "anon_inode:"
  const char* what;
};

// anon_inode objects by the name the kernel gives them.
constexpr Name kAnonInodes[] = {
    {"[io_uring]", "an io_uring instance"},   {"[eventpoll]", "an epoll instance"},
    {"[eventfd]", "an eventfd"},              {"[timerfd]", "a timerfd"},
    {"[signalfd]", "a signalfd"},             {"inotify", "an inotify instance"},
    {"[fanotify]", "a fanotify instance"},    {"[pidfd]", "a pidfd"},
    {"[userfaultfd]", "a userfaultfd"},       {"[perf_event]", "a perf event"},
    {"kvm-vm", "a KVM virtual machine"},
};

void describe_socket(int fd, char* out, size_t cap) {
  int domain = -1, type = -1;
  socklen_t len = sizeof domain;
  raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, reinterpret_cast<long>(&domain), reinterpret_cast<long>(&len));
  len = sizeof type;
  raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, reinterpret_cast<long>(&type), reinterpret_cast<long>(&len));
  const char* family = domain == AF_UNIX ? "a UNIX" : domain == AF_INET ? "an IPv4" : domain == AF_INET6 ? "an IPv6"
                       : domain == AF_NETLINK ? "a netlink" : "a";
  const char* kind = type == SOCK_STREAM ? (domain == AF_INET || domain == AF_INET6 ? "TCP" : "stream")
                     : type == SOCK_DGRAM ? (domain == AF_INET || domain == AF_INET6 ? "UDP" : "datagram")
                     : type == SOCK_SEQPACKET ? "seqpacket" : type == SOCK_RAW ? "raw" : "";
  ShortText text;
  text.add(family).add(*kind ? " " : "").add(kind).add(" socket");
  copy_text(out, cap, text.c_str());
}

}  // namespace

void describe_kind(const FdRecord& r, char* out, size_t cap) {
  constexpr char kAnon[] = "anon_inode:";
  if (has_prefix(r.path, "socket:[")) return describe_socket(r.fd, out, cap);
  if (has_prefix(r.path, kAnon)) {
    const char* name = r.path + sizeof kAnon - 1;
    for (const Name& n : kAnonInodes)
      if (strcmp(name, n.inode) == 0 || (n.inode[0] != '[' && has_prefix(name, n.inode))) return copy_text(out, cap, n.what);
    ShortText text;
    text.add("a kernel object (").add(name).add(")");
    return copy_text(out, cap, text.c_str());
  }
  ShortText text;
  if (strcmp(r.path, "/dev/ptmx") == 0 || strcmp(r.path, "/dev/pts/ptmx") == 0) text.add("a pseudo-terminal master");
  else if (S_ISDIR(r.mode)) text.add("the removed directory ").add(r.path);
  else if (S_ISCHR(r.mode)) text.add("the device ").add(r.path);
  else if (S_ISBLK(r.mode)) text.add("the block device ").add(r.path);
  else if (S_ISFIFO(r.mode)) text.add("the removed FIFO ").add(r.path);
  else text.add("an object of an unknown kind (").add(r.path).add(")");
  copy_text(out, cap, text.c_str());
}

bool describe_fd(int fd, FdRecord& r) {
  memset(&r, 0, sizeof r);
  long fd_flags = raw_syscall(SYS_fcntl, fd, F_GETFD);
  long status_flags = raw_syscall(SYS_fcntl, fd, F_GETFL);
  struct stat st;
  if (fd_flags < 0 || status_flags < 0 || raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) < 0) return false;
  r.fd = fd;
  r.fd_flags = static_cast<uint32_t>(fd_flags);
  r.status_flags = static_cast<uint32_t>(status_flags);
  r.dev = st.st_dev;
  r.ino = st.st_ino;
  r.mode = st.st_mode;
  r.size = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  r.offset = -1;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    long off = raw_syscall(SYS_lseek, fd, 0, SEEK_CUR);
    if (off >= 0) r.offset = off;
  }
  if (S_ISFIFO(st.st_mode)) {
    long size = raw_syscall(SYS_fcntl, fd, F_GETPIPE_SZ);
    r.pipe_size = size > 0 ? static_cast<uint32_t>(size) : 0;
  }
  read_link(proc_path(0, "fd", fd).c_str(), r.path, sizeof r.path);
  return true;
}

void classify(FdRecord& r, HolderTable& holders) {
  bool has_path = r.path[0] == '/';
  // /dev/null and the like are reopened as they were, even where the
  // launching shell had them as a standard stream: the same inode says
  // nothing about being that stream.
  if (S_ISCHR(r.mode) && has_path && is_plain_device(r.path)) {
    r.kind = FdKind::Device;
    return;
  }
  int stdio = stdio_match(r.dev, r.ino, r.fd);
  if (stdio >= 0) {
    r.kind = FdKind::Stdio;
    r.stdio_index = static_cast<uint32_t>(stdio);
    return;
  }
  // Objects without a path ("socket:[..]", "anon_inode:[eventfd]", ...)
  // are not ours, whatever their st_mode: Lost unless another plugin claims them.
  r.kind = FdKind::Lost;
  if (S_ISREG(r.mode) && has_path) {
    r.kind = take_deleted(r.fd, r.path) ? FdKind::Deleted : FdKind::File;
    if (r.kind == FdKind::File) claim_proc_fd(r);
  } else if (S_ISDIR(r.mode) && has_path) {
    if (!take_deleted(r.fd, r.path)) r.kind = FdKind::Directory;  // a removed directory cannot be reopened
    if (r.kind == FdKind::Directory) claim_proc_fd(r);
  } else if (S_ISFIFO(r.mode)) {
    if (has_prefix(r.path, "pipe:[")) classify_pipe(r, holders);
    else if (has_path && !take_deleted(r.fd, r.path)) r.kind = FdKind::Fifo;
  } else if (S_ISCHR(r.mode) && has_path) {
    // A pty master (ptmx) is not a terminal to bind to, and neither is a
    // slave the pty kind claimed (its master is in the computation): both
    // are plugins/pty's, which the claim makes Elsewhere.
    if (strcmp(r.path, "/dev/ptmx") != 0 && strcmp(r.path, "/dev/pts/ptmx") != 0 && is_terminal(r.fd) &&
        !ckpt_fd_claimed(r.fd))
      r.kind = FdKind::Tty;
  }
}

}  // namespace ckpt::fd
