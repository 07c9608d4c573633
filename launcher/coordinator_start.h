// Making sure a coordinator is there for ckpt_launch and ckpt_restart: use
// the one listening at host:port, or start one next to the running tool.
#pragma once

#include <cstdint>
#include <string>

#include "ckpt/auth.h"
#include "ckpt/protocol.h"

namespace ckpt {

enum class CoordinatorMode {
  Auto,  // use a coordinator listening at host:port, else start one (only if host is local)
  Join,  // require one to be listening
  New,   // start a fresh one; error if the port is taken
};

struct CoordinatorRequest {
  std::string host = "localhost";
  uint16_t port = proto::kDefaultPort;
  CoordinatorMode mode = CoordinatorMode::Auto;
  std::string ckptdir;   // passed as --ckptdir to a coordinator we start
  unsigned interval = 0; // passed as --interval to a coordinator we start
  unsigned keep = 0;     // passed as --keep to a coordinator we start; 0: its default
  // false: return as soon as a coordinator is being started, without waiting
  // for it to listen (the worker's checkpoint thread retries its connection).
  // Ignored when the port is 0, as the port is only known once bound.
  bool wait_until_listening = true;
  std::string secret_file;  // --secret-file as given; empty: the default for the port
  std::string listen;       // passed as --listen to a coordinator we start; empty: loopback only

  // Filled in when the check returns Ready: the secret every process and
  // command of the computation proves it knows, and the file it lives in.
  std::string secret_path;
  auth::Secret secret{};
};

// A coordinator found listening is used only once it has proved it knows
// our secret (ckpt/auth.h); one we start gets the secret first (made if the
// file is missing). Started coordinators run
//   <dir of /proc/self/exe>/ckpt_coordinator --daemon --exit-on-last --port P ...
// detached (own session, no inherited fds, no zombie left behind). Anything
// but Ready comes with a one-line reason in `error`. May update req.port
// (e.g. New with port 0).
enum class CoordinatorCheck {
  Ready,          // a coordinator listens (or, Auto without waiting, is being started)
  NoneListening,  // nobody listens and none may be started here (Join, or a remote host)
  Failed,         // starting one failed, or New found the port taken
  Foreign,        // one listens, but it is not ours: another user's, or we lack its secret
};
CoordinatorCheck ensure_coordinator(CoordinatorRequest& req, std::string& error);

}  // namespace ckpt
