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
#include "client.h"
#include "generations.h"
#include "framing.h"
#include "pid_table.h"
#include "stopped_workers.h"

namespace ckpt::coord {

namespace asio = boost::asio;
using proto::MsgType;
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
  Server(asio::io_context& io, int listen_fd, Coordinator& coordinator, const auth::Secret& secret)
      : io_(io), acceptor_(io), signals_(io, SIGINT, SIGTERM), exit_timer_(io), coord_(coordinator), secret_(secret) {
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
    // A computation ended by signals, leaving with --exit-on-last: a last
    // sweep on the way out for the process that was still going.
    if (coord_.worker_count() == 0) sweep_dead_tables_everywhere();
    return exit_code_;
  }
  bool asked_to_exit() const { return exiting_; }

 private:
  // Before its first message a connection is nobody's: it gets little
  // memory (framing.h) and little time (issue 8: a peer that says nothing
  // must not pin the coordinator's resources for ever).
  static constexpr std::chrono::seconds kFirstMessageTimeout{10};
  // Out of descriptors: accepting again at once would spin.
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};
  static constexpr std::chrono::seconds kAcceptLogEvery{10};
  // Connections that have not authenticated yet, at most: a newer one evicts
  // the oldest, so strangers can neither exhaust the descriptors nor keep
  // the computation's own processes and commands out.
  static constexpr size_t kMaxUnauthenticated = 64;

  // Until a connection has proved it knows the secret (ckpt/auth.h), the
  // server talks to it alone; the state machine only sees Open ones.
  enum class Handshake { AwaitStart, AwaitProof, Open };

  struct Session {
    Session(tcp::socket s, ClientId i, asio::io_context& io) : socket(std::move(s)), id(i), first_timer(io) {}
    tcp::socket socket;
    ClientId id;
    std::string peer;  // "address:port", for log lines
    Handshake handshake = Handshake::AwaitStart;
    bool refused = false;  // refuse() logged its end already
    uint8_t client_nonce[auth::kNonceBytes] = {};
    uint8_t server_nonce[auth::kNonceBytes] = {};
    bool spoke = false;  // its first message after the handshake arrived
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
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto s = std::make_shared<Session>(std::move(socket), next_id_++, io_);
      const auto remote = s->socket.remote_endpoint(ignored);
      s->peer = ignored ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
      sessions_[s->id] = s;
      unauthenticated_.push_back(s);
      evict_strangers(kMaxUnauthenticated);
      s->first_timer.expires_after(kFirstMessageTimeout);
      s->first_timer.async_wait([this, s](const boost::system::error_code& timer_ec) {
        if (timer_ec || s->spoke) return;
        write_log(LogLevel::Warn, describe(*s) + ": no message within " + std::to_string(kFirstMessageTimeout.count()) +
                                      " s; closing it");
        drop(s);
      });
      if (const std::string why = foreign_user(*s); !why.empty()) {
        refuse(s, why);
      } else {
        read_header(s);
      }
      accept();
    });
  }

  // Closes the oldest connections that have not authenticated until at most
  // `keep` remain; returns how many it closed. Logged once in a while.
  size_t evict_strangers(size_t keep) {
    std::erase_if(unauthenticated_, [this](const std::weak_ptr<Session>& w) {
      const SessionPtr s = w.lock();
      return !s || s->handshake == Handshake::Open || !sessions_.count(s->id);
    });
    size_t evicted = 0;
    while (unauthenticated_.size() > keep) {
      const SessionPtr oldest = unauthenticated_.front().lock();
      unauthenticated_.pop_front();
      oldest->refused = true;  // this line, not one per connection
      drop(oldest);
      ++evicted;
    }
    evicted_since_log_ += evicted;
    const auto now = std::chrono::steady_clock::now();
    if (evicted_since_log_ > 0 && now - last_evict_log_ >= kAcceptLogEvery) {
      write_log(LogLevel::Warn, "closed " + std::to_string(evicted_since_log_) +
                                    " connections that had not authenticated (more than " +
                                    std::to_string(kMaxUnauthenticated) + " at once, or out of descriptors)");
      evicted_since_log_ = 0;
      last_evict_log_ = now;
    }
    return evicted;
  }

  // EMFILE and the like: the pending connection stays queued, so accepting
  // again at once fails again at once. Make room by closing connections that
  // have not authenticated; if there are none, pause. Log once in a while.
  void accept_failed(const boost::system::error_code& ec) {
    if ((ec == asio::error::no_descriptors || ec.value() == ENFILE) && evict_strangers(unauthenticated_.size() / 2) > 0)
      return accept();
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

  std::string describe(const Session& s) const { return "connection " + std::to_string(s.id) + " from " + s.peer; }

  // A local peer of another user is refused before the handshake: the
  // secret is the proof, the owner a second line of defence on this host.
  // Root may join any computation; a root coordinator takes any user's
  // processes (its programs may drop privileges after they joined).
  std::string foreign_user(const Session& s) {
    const uid_t self = ::geteuid();
    if (self == 0) return {};
    const auto peer = loopback_peer_uid(const_cast<tcp::socket&>(s.socket).native_handle());
    if (!peer || *peer == self || *peer == 0) return {};
    return "this coordinator belongs to uid " + std::to_string(self) + ", not to uid " + std::to_string(*peer);
  }

  // One log line, the reason to the peer, then the connection closes.
  void refuse(const SessionPtr& s, const std::string& why) {
    write_log(LogLevel::Warn, describe(*s) + ": refused: " + why);
    s->refused = true;
    const auto header = proto::make_header(MsgType::AuthRefused, static_cast<uint32_t>(why.size()));
    s->outbox.push_back(std::string(reinterpret_cast<const char*>(&header), sizeof header) + why);
    s->close_when_flushed = true;
    flush(s);
  }

  // The message and payload size each handshake step must have; anything else is no client of ours.
  static MsgType expected_step(Handshake h) { return h == Handshake::AwaitStart ? MsgType::AuthStart : MsgType::AuthProof; }
  static uint32_t handshake_payload(Handshake h) {
    return h == Handshake::AwaitStart ? sizeof(auth::AuthStartPayload) : sizeof(auth::AuthProofPayload);
  }

  // Handles a message of a connection that has not authenticated yet.
  void handshake_step(const SessionPtr& s) {
    if (s->handshake == Handshake::AwaitStart) {
      std::memcpy(s->client_nonce, s->payload.data(), sizeof s->client_nonce);
      auth::AuthChallengePayload challenge;
      auth::random_bytes(s->server_nonce, sizeof s->server_nonce);
      std::memcpy(challenge.nonce, s->server_nonce, sizeof challenge.nonce);
      auth::compute_mac(secret_, auth::Role::Coordinator, s->client_nonce, s->server_nonce, challenge.mac);
      const auto header = proto::make_header(MsgType::AuthChallenge, sizeof challenge);
      s->outbox.push_back(std::string(reinterpret_cast<const char*>(&header), sizeof header) +
                          std::string(reinterpret_cast<const char*>(&challenge), sizeof challenge));
      flush(s);
      s->handshake = Handshake::AwaitProof;
      return read_header(s);
    }
    uint8_t expected[auth::kMacBytes];
    auth::compute_mac(secret_, auth::Role::Client, s->client_nonce, s->server_nonce, expected);
    if (!auth::mac_equal(expected, reinterpret_cast<const uint8_t*>(s->payload.data())))
      return refuse(s, "wrong secret (not a process or command of this computation)");
    s->handshake = Handshake::Open;
    apply(coord_.connected(s->id, Clock::now()));
    read_header(s);
  }

  void read_header(const SessionPtr& s) {
    asio::async_read(s->socket, asio::buffer(&s->header, sizeof s->header),
                     [this, s](const boost::system::error_code& ec, size_t) {
                       if (ec) return drop(s);
                       if (!header_acceptable(s->header, !s->spoke)) {
                         write_log(LogLevel::Warn, describe(*s) + ": invalid message header; closing it");
                         return drop(s);
                       }
                       if (s->handshake != Handshake::Open &&
                           (s->header.type != static_cast<uint16_t>(expected_step(s->handshake)) ||
                            s->header.payload_len != handshake_payload(s->handshake)))
                         return refuse(s, "it did not authenticate first (a client of another version?)");
                       s->payload.resize(s->header.payload_len);
                       asio::async_read(s->socket, asio::buffer(s->payload),
                                        [this, s](const boost::system::error_code& ec2, size_t) {
                                          if (ec2) return drop(s);
                                          if (s->handshake != Handshake::Open) return handshake_step(s);
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
    // A client that got our challenge and left did not like our proof (or
    // had no secret): one line. A port probe that never spoke is silent.
    if (s->handshake == Handshake::AwaitProof && !s->refused)
      write_log(LogLevel::Warn, describe(*s) + ": left during the handshake (a wrong secret on its side?)");
    boost::system::error_code ignored;
    s->first_timer.cancel();
    s->socket.close(ignored);
    if (s->handshake == Handshake::Open) {
      const size_t workers = coord_.worker_count();
      apply(coord_.disconnected(s->id, Clock::now()));
      // The last process is gone. If the computation was ended by SIGTERM or
      // SIGINT, no process ran code to remove the pid table it shared.
      if (workers > 0 && coord_.worker_count() == 0) sweep_pid_tables(0);
    }
    maybe_stop();
  }

  // Sweeps the pid tables of computations that are over, again after 1 and
  // 5 s while no process is connected: the last disconnect can come before
  // every process of the table is gone (one still exiting, or one that never
  // connected). The last try names in the log each table it keeps and why.
  void sweep_pid_tables(int attempt) {
    static constexpr std::chrono::seconds kRetries[] = {std::chrono::seconds(1), std::chrono::seconds(4)};
    const bool last = attempt == static_cast<int>(std::size(kRetries));
    sweep_dead_tables_everywhere(
        last ? +[](void*, const char* table, pid_t holder) {
          write_log(LogLevel::Info, "pid table " + std::string(table) + " kept: process " + std::to_string(holder) +
                                        " is alive and holds it");
        }
             : nullptr,
        nullptr);
    if (last) return;
    sweep_timer_.expires_after(kRetries[attempt]);
    sweep_timer_.async_wait([this, attempt](const boost::system::error_code& ec) {
      if (!ec && coord_.worker_count() == 0) sweep_pid_tables(attempt + 1);
    });
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
    const std::string error = write_generation_scripts(a.path, a.latest_path, a.text);
    apply(coord_.script_written(a.generation, error, Clock::now()));
  }

  void perform(RemoveFiles& a) {
    for (const std::string& path : a.paths)
      if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        write_log(LogLevel::Warn, "cannot remove " + path + ": " + std::strerror(errno));
  }

  void perform(ContinueStopped& a) {
    for (const auto& target : a.workers) {
      auto it = sessions_.find(target.client);
      if (it == sessions_.end()) continue;
      // Only a worker on this machine's loopback can be proved ours (its pid
      // holds the connection's other end); elsewhere its peers continue it.
      const auto peer = loopback_peer(it->second->socket.native_handle());
      if (!peer) continue;
      std::string error;
      switch (continue_stopped_worker(target.real_pid, peer->inode, error)) {
        case WakeResult::Woken:
          write_log(LogLevel::Info, "continued stopped process " + std::to_string(target.real_pid) +
                                        " (it stops again once this is over)");
          break;
        case WakeResult::NoThread:
          write_log(LogLevel::Warn, "process " + std::to_string(target.real_pid) +
                                        " is stopped and has no checkpoint thread: not continued");
          break;
        case WakeResult::Failed:
          write_log(LogLevel::Warn, "cannot continue stopped process " + std::to_string(target.real_pid) + ": " + error);
          break;
        case WakeResult::Running:
        case WakeResult::NotOurs:
          break;
      }
    }
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
  asio::steady_timer sweep_timer_{io_};
  std::chrono::steady_clock::time_point last_accept_log_{};
  uint64_t accept_failures_ = 0;
  Coordinator& coord_;
  const auth::Secret secret_;
  std::map<ClientId, SessionPtr> sessions_;
  std::deque<std::weak_ptr<Session>> unauthenticated_;  // oldest first; entries may be stale
  uint64_t evicted_since_log_ = 0;
  std::chrono::steady_clock::time_point last_evict_log_{};
  std::map<TimerKind, std::unique_ptr<asio::steady_timer>> timers_;
  ClientId next_id_ = 1;
  bool exiting_ = false;
  int exit_code_ = 0;
};

}  // namespace

int run_server(int listen_fd, Coordinator& coordinator, const auth::Secret& secret, bool& asked_to_exit) {
  asio::io_context io;
  Server server(io, listen_fd, coordinator, secret);
  const int status = server.run();
  asked_to_exit = server.asked_to_exit();
  return status;
}

}  // namespace ckpt::coord
