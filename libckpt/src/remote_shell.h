// A process of the computation that runs a command on another host through
// the remote shell ("ssh HOST COMMAND...", or whatever CKPT_RSH names, such
// as "ip netns exec") starts that command inside the computation: the exec
// wrappers (exec.cpp) rewrite
//   RSH [OPTION]... HOST COMMAND...
// into
//   RSH [OPTION]... HOST LAUNCH --join --coord-host H --coord-port P
//       --secret-file F --host-name HOST --ckptdir D -- COMMAND...
// where LAUNCH is ckpt_launch at this library's install path (the same on
// every host), and the secret file and checkpoint directory are this
// process's paths (present on HOST too: copied or shared). The remote shell
// itself runs outside the computation: its connection to HOST is nothing a
// checkpoint can save, and the command it starts is a process of the
// computation of its own.
//
// Pure: no allocation, no globals, so it runs in a fork child before exec
// and is unit-tested on its own.
#pragma once

#include <stddef.h>

namespace ckpt {

// What a remote command must join.
struct RemoteJoin {
  const char* rsh;          // the remote shell: a program, then fixed leading arguments ("ip netns exec")
  const char* launch_path;  // ckpt_launch
  const char* coord_host;
  unsigned coord_port;
  const char* secret_file;
  const char* ckptdir;
};

enum class RshMatch {
  Other,      // not the remote shell, no remote command (a login), or CKPT_RSH=none: run as it is
  Rewritten,  // `out.argv` runs the command under ckpt_launch on HOST
  // The coordinator is at a loopback address, which HOST cannot reach: run
  // as it is, outside the computation, with the warning in `why` (a
  // computation on one host that uses ssh for something else keeps working).
  Outside,
  Refused,    // a word the remote shell would interpret; `why` says which
};

struct RshArgv {
  static constexpr int kMaxArgs = 4096;
  char* argv[kMaxArgs];
  char port[8];
  char host[256];  // HOST without "user@": the remote process's host name
};

RshMatch rewrite_remote_shell(char* const* argv, const RemoteJoin& join, RshArgv& out, char* why, size_t why_len);

}  // namespace ckpt
