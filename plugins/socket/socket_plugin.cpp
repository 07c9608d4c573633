// Sockets (UNIX, TCP and UDP over IPv4 and IPv6): see socket_checkpoint.h
// for the checkpoint side and socket_restart.cpp for the restart side.
#include <stdlib.h>
#include <string.h>

#include "ckpt/environment.h"
#include "ckpt/plugin.h"
#include "socket_checkpoint.h"
#include "socket_drain.h"
#include "socket_remote.h"

namespace ckpt::socket {
namespace {

// constinit: INIT runs from a constructor, before dynamic initializers.
constinit SocketPolicy g_policy;
bool g_restarted = false;  // the next RESUME follows a restart

void socket_event(ckpt_event_t event, void*) {
  switch (event) {
    case CKPT_EVENT_INIT: {
      const char* outside = getenv(CKPT_ENV_OUTSIDE_CONNECTIONS);
      g_policy.fail_outside = outside && strcmp(outside, "fail") == 0;
      break;
    }
    case CKPT_EVENT_PRE_CHECKPOINT: claim_sockets(); break;
    case CKPT_EVENT_DRAIN: checkpoint_sockets(g_policy); break;
    case CKPT_EVENT_RESUME:
      if (g_restarted) remote_reconnect();
      else refill_exchanged();
      g_restarted = false;
      break;
    case CKPT_EVENT_RESTART:
      // ckpt_restart made the sockets of this host; those to other hosts
      // are this process's to make.
      forget_exchanged();
      remote_restarted();
      g_restarted = true;
      break;
    default: break;
  }
}

const ckpt_plugin g_plugin = {"socket", socket_event};

__attribute__((constructor(201))) void register_socket_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
}  // namespace ckpt::socket
