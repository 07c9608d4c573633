#include "server.h"

#include <utility>  // before Asio: boost 1.74 uses std::exchange without including it

#include <arpa/inet.h>

#include <boost/asio.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomic_file.h"
#include "framing.h"

namespace ckpt::coord {

namespace asio = boost::asio;
using asio::ip::tcp;

// On `address` only (numeric; 127.0.0.1 unless the user asked for more):
// a coordinator controls its computation, so it is not reachable from other
// hosts unless a computation spans them.
int open_listener(const std::string& address, uint16_t& port, std::string& error) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  const int family = ::inet_pton(AF_INET, address.c_str(), &v4.sin_addr) == 1 ? AF_INET : AF_INET6;
  if (family == AF_INET6 && ::inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr) != 1) {
    error = "cannot listen on " + address + ": not a numeric address";
    return -1;
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  const int one = 1, zero = 0;
  // Lets a restarted coordinator reuse the port while old connections linger
  // in TIME_WAIT; a port with a live listener still fails with EADDRINUSE.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (family == AF_INET6) {
    // "::" takes IPv4 connections too.
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  } else {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&v4), sizeof v4);
  }
  if (rc != 0 || ::listen(fd, SOMAXCONN) != 0) {
    error = "cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                  : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

namespace {

class Server {
 public:
  Server(asio::io_context& io, int listen_fd, Coordinator& coordinator)
      : io_(io), acceptor_(io), signals_(io, SIGINT, SIGTERM), exit_timer_(io), coord_(coordinator) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    acceptor_.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listen_fd);
  }

  int run() {
    apply(coord_.start(Clock::now()));
    accept();
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      write_log(LogLevel::Info, std::string("exiting on ") + ::strsignal(signo));
      io_.stop();
    });
    io_.run();
    return exit_code_;
  }

 private:
  // Before its first message a connection is nobody's: it gets little
  // memory (framing.h) and little time (issue 8: a peer that says nothing
  // must not pin the coordinator's resources for ever).
  static constexpr std::chrono::seconds kFirstMessageTimeout{10};
  // Out of descriptors: accepting again at once would spin.
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};
  static constexpr std::chrono::seconds kAcceptLogEvery{10};

  struct Session {
    Session(tcp::socket s, ClientId i, asio::io_context& io) : socket(std::move(s)), id(i), first_timer(io) {}
    tcp::socket socket;
    ClientId id;
    bool spoke = false;  // its first message arrived
    asio::steady_timer first_timer;
    proto::MsgHeader header{};
    std::string payload;
    std::deque<std::string> outbox;
    bool writing = false;
    bool close_when_flushed = false;
  };
  using SessionPtr = std::shared_ptr<Session>;

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (exiting_) return;
      if (ec) return accept_failed(ec);
      socket.set_option(tcp::no_delay(true));
      auto s = std::make_shared<Session>(std::move(socket), next_id_++, io_);
      sessions_[s->id] = s;
      s->first_timer.expires_after(kFirstMessageTimeout);
      s->first_timer.async_wait([this, s](const boost::system::error_code& timer_ec) {
        if (timer_ec || s->spoke) return;
        write_log(LogLevel::Warn, "connection " + std::to_string(s->id) + ": no message within " +
                                      std::to_string(kFirstMessageTimeout.count()) + " s; closing it");
        drop(s);
      });
      apply(coord_.connected(s->id, Clock::now()));
      read_header(s);
      accept();
    });
  }

  // EMFILE and the like: the pending connection stays queued, so accepting
  // again at once fails again at once. Pause, and log once in a while.
  void accept_failed(const boost::system::error_code& ec) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_accept_log_ >= kAcceptLogEvery) {
      write_log(LogLevel::Warn, "accept: " + ec.message() +
                                    (accept_failures_ ? " (" + std::to_string(accept_failures_) + " more since the last report)"
                                                      : std::string()) +
                                    "; pausing new connections");
      last_accept_log_ = now;
      accept_failures_ = 0;
    } else {
      ++accept_failures_;
    }
    accept_timer_.expires_after(kAcceptBackoff);
    accept_timer_.async_wait([this](const boost::system::error_code& timer_ec) {
      if (!timer_ec && !exiting_) accept();
    });
  }

  void read_header(const SessionPtr& s) {
    asio::async_read(s->socket, asio::buffer(&s->header, sizeof s->header),
                     [this, s](const boost::system::error_code& ec, size_t) {
                       if (ec) return drop(s);
                       if (!header_acceptable(s->header, !s->spoke)) {
                         write_log(LogLevel::Warn, "connection " + std::to_string(s->id) +
                                                       ": invalid message header; closing it");
                         return drop(s);
                       }
                       s->payload.resize(s->header.payload_len);
                       asio::async_read(s->socket, asio::buffer(s->payload),
                                        [this, s](const boost::system::error_code& ec2, size_t) {
                                          if (ec2) return drop(s);
                                          if (!s->spoke) {
                                            s->spoke = true;
                                            s->first_timer.cancel();
                                          }
                                          apply(coord_.message(s->id, s->header, s->payload, Clock::now()));
                                          if (sessions_.count(s->id)) read_header(s);
                                        });
                     });
  }

  // Forgets a connection and tells the state machine; safe to call twice.
  void drop(const SessionPtr& s) {
    if (sessions_.erase(s->id) == 0) return;
    boost::system::error_code ignored;
    s->first_timer.cancel();
    s->socket.close(ignored);
    apply(coord_.disconnected(s->id, Clock::now()));
    maybe_stop();
  }

  void flush(const SessionPtr& s) {
    if (s->writing) return;
    if (s->outbox.empty()) {
      if (s->close_when_flushed) drop(s);
      return;
    }
    s->writing = true;
    asio::async_write(s->socket, asio::buffer(s->outbox.front()),
                      [this, s](const boost::system::error_code& ec, size_t) {
                        s->writing = false;
                        if (ec) return drop(s);
                        s->outbox.pop_front();
                        flush(s);
                      });
  }

  void apply(Actions actions) {
    for (Action& a : actions) std::visit([this](auto& act) { perform(act); }, a);
  }

  void perform(Send& a) {
    auto it = sessions_.find(a.to);
    if (it == sessions_.end()) return;  // already gone; its disconnect is on its way to the state machine
    std::string bytes(reinterpret_cast<const char*>(&a.header), sizeof a.header);
    bytes += a.payload;
    it->second->outbox.push_back(std::move(bytes));
    flush(it->second);
  }

  void perform(Close& a) {
    auto it = sessions_.find(a.client);
    if (it == sessions_.end()) return;
    it->second->close_when_flushed = true;
    flush(it->second);
  }

  void perform(ArmTimer& a) {
    auto& timer = timers_[a.kind];
    if (!timer) timer = std::make_unique<asio::steady_timer>(io_);
    timer->expires_after(a.delay);  // also cancels a pending wait
    timer->async_wait([this, kind = a.kind, token = a.token](const boost::system::error_code& ec) {
      if (!ec) apply(coord_.timer_fired(kind, token, Clock::now()));
    });
  }

  void perform(CancelTimer& a) {
    if (auto it = timers_.find(a.kind); it != timers_.end()) it->second->cancel();
  }

  void perform(WriteScript& a) {
    // A few kilobytes and an fsync: not worth a thread.
    const std::string error = write_file_atomically(a.path, a.text, 0755);
    apply(coord_.script_written(a.generation, error, Clock::now()));
  }

  void perform(Log& a) { write_log(a.level, a.text); }

  void perform(Exit& a) {
    exit_code_ = a.code;
    exiting_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    // Let queued replies and Kill messages go out, but not forever.
    exit_timer_.expires_after(std::chrono::seconds(2));
    exit_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) io_.stop();
    });
    std::vector<SessionPtr> open;
    for (auto& [id, s] : sessions_) open.push_back(s);
    for (auto& s : open) {
      s->close_when_flushed = true;
      flush(s);
    }
    maybe_stop();
  }

  void maybe_stop() {
    if (exiting_ && sessions_.empty()) io_.stop();
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer exit_timer_;
  asio::steady_timer accept_timer_{io_};
  std::chrono::steady_clock::time_point last_accept_log_{};
  uint64_t accept_failures_ = 0;
  Coordinator& coord_;
  std::map<ClientId, SessionPtr> sessions_;
  std::map<TimerKind, std::unique_ptr<asio::steady_timer>> timers_;
  ClientId next_id_ = 1;
  bool exiting_ = false;
  int exit_code_ = 0;
};

}  // namespace

int run_server(int listen_fd, Coordinator& coordinator) {
  asio::io_context io;
  Server server(io, listen_fd, coordinator);
  return server.run();
}

}  // namespace ckpt::coord
