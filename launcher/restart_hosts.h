// ckpt_restart for a computation that ran on several hosts (or one moved to
// other hosts with --host/--hostfile): one ckpt_restart per host, each
// restoring that host's processes there (--host-share), all joining the same
// coordinator, which resumes the computation once every process of every
// host has rejoined. Each runs through the remote shell, as
//   RSH NEW ckpt_restart --join --coord-host H --coord-port P --secret-file F
//       --host-name NEW --host-share [options] IMAGE...
// or directly when NEW is this host. ckpt_restart is taken from the same
// path on every host, and so are the secret file and the images (a shared
// file system, or copies).
#pragma once

#include <string>
#include <vector>

#include "ckpt/auth.h"
#include "restart_options.h"

namespace ckpt {

struct HostShare {
  std::string from;  // the host its processes ran on
  std::string to;    // where they restart
  std::vector<std::string> images;
};

// Whether the restart spans hosts: a host map is given, or the images name
// their hosts (HOST:/PATH, from the restart script of such a computation).
bool restart_spans_hosts(const RestartOptions& opt);

// The images grouped by the host they ran on (`ran_on`, parallel to
// opt.images), in order of first appearance, each sent where the host map
// says (without a map: where it ran). Throws RestartError (one line) for a
// host the map lacks.
std::vector<HostShare> plan_host_shares(const RestartOptions& opt, const std::vector<std::string>& ran_on);

// What every host's ckpt_restart needs to join the coordinator.
struct ShareJoin {
  std::string restart_program;  // ckpt_restart, the same path on every host
  std::string coord_host;
  unsigned coord_port = 0;
  std::string secret_file;
};

// The command that restarts `share`: through the remote shell unless it
// stays on `this_host`. Throws RestartError for a word a remote shell would
// interpret, or a coordinator at a loopback address that another host
// cannot reach.
std::vector<std::string> share_command(const HostShare& share, const RestartOptions& opt, const ShareJoin& join,
                                       const std::string& this_host);

// This host's name: --host-name (CKPT_HOST_NAME), else the kernel's.
std::string this_host_name(const RestartOptions& opt);

// Runs every share's command at once and watches the coordinator: fails
// (one line, every share's processes killed, exit status 1) when a share's
// ckpt_restart ends before the computation runs again (an unreachable host,
// a refused image) or the coordinator reports the restart failed. Once the
// computation runs, waits for every share and returns 0 if all ended with
// 0, else the first other status.
int run_host_shares(const std::vector<HostShare>& shares, const std::vector<std::vector<std::string>>& commands,
                    const ShareJoin& join, const auth::Secret& secret);

}  // namespace ckpt
