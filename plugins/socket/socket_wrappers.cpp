// TCP listeners keep their port reusable for the restart.
//
// A restart binds each listener to its saved port again. Connections the
// killed processes had accepted on that port, and those the server closed
// itself shortly before, sit in TIME_WAIT for a minute, and the kernel lets
// a new socket bind over them only if they, too, had SO_REUSEADDR, which
// accepted sockets inherit from their listener. A server that never set it
// (DMTCP's frisbee) could therefore not be restarted within a minute of the
// kill: "cannot listen at its address again: Address already in use".
// So listen() turns SO_REUSEADDR on for a TCP socket that does not have it,
// and getsockopt() goes on reporting the application's own setting. For a
// listening socket the option changes nothing else the application can see:
// no other socket can bind to a port while something listens on it.
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <atomic>
#include <climits>

#include "ckpt/raw_syscall.h"

namespace ckpt::socket {
namespace {

// Descriptors whose SO_REUSEADDR listen() turned on, one bit each. (After
// an exec the new program sees the option on, as the kernel has it.)
constexpr int kTrackedFds = 1 << 16;
std::atomic<unsigned long> g_added[kTrackedFds / (sizeof(unsigned long) * CHAR_BIT)];

constexpr int kBits = sizeof(unsigned long) * CHAR_BIT;

bool added(int fd) {
  return fd >= 0 && fd < kTrackedFds && (g_added[fd / kBits].load() >> (fd % kBits)) & 1ul;
}

void mark(int fd, bool on) {
  if (fd < 0 || fd >= kTrackedFds) return;
  const unsigned long bit = 1ul << (fd % kBits);
  if (on) g_added[fd / kBits].fetch_or(bit);
  else g_added[fd / kBits].fetch_and(~bit);
}

int socket_int(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  long rc = raw_syscall(SYS_getsockopt, fd, level, name, reinterpret_cast<long>(&v), reinterpret_cast<long>(&len));
  return rc == 0 ? v : -1;
}

int result(long rc) {
  if (rc >= 0) return static_cast<int>(rc);
  errno = static_cast<int>(-rc);
  return -1;
}

}  // namespace
}  // namespace ckpt::socket

using namespace ckpt::socket;

extern "C" {

int listen(int fd, int backlog) {
  int rc = result(ckpt::raw_syscall(SYS_listen, fd, backlog));
  if (rc != 0) return rc;
  const int domain = socket_int(fd, SOL_SOCKET, SO_DOMAIN);
  if ((domain == AF_INET || domain == AF_INET6) && socket_int(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
      socket_int(fd, SOL_SOCKET, SO_REUSEADDR) == 0) {
    int on = 1;
    if (ckpt::raw_syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<long>(&on), sizeof on) == 0)
      mark(fd, true);
  }
  return 0;
}

int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  int rc = result(ckpt::raw_syscall(SYS_getsockopt, fd, level, name, reinterpret_cast<long>(value),
                                    reinterpret_cast<long>(len)));
  // The application's own setting: off, unless it turned it on since.
  if (rc == 0 && level == SOL_SOCKET && name == SO_REUSEADDR && added(fd) && value && len && *len >= sizeof(int))
    *static_cast<int*>(value) = 0;
  return rc;
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  if (level == SOL_SOCKET && name == SO_REUSEADDR && added(fd) && value && len >= sizeof(int)) {
    // Turning it on makes the setting the application's; turning it off on
    // a listener would only bring back the restart's problem, and changes
    // nothing else for it: remembered, not done.
    // (Only for a descriptor that is still a socket: otherwise the real
    // call gives the application its error.)
    if (socket_int(fd, SOL_SOCKET, SO_DOMAIN) >= 0) {
      if (*static_cast<const int*>(value) != 0) mark(fd, false);
      return 0;
    }
  }
  int rc = result(ckpt::raw_syscall(SYS_setsockopt, fd, level, name, reinterpret_cast<long>(value), len));
  // A socket of the application's that took the number of one we marked.
  if (rc == 0 && level == SOL_SOCKET && name == SO_REUSEADDR) mark(fd, false);
  return rc;
}

}  // extern "C"
