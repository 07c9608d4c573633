#include "restart_hosts.h"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "ckpt/environment.h"
#include "ckpt/remote_hosts.h"
#include "ckpt/restart.h"

namespace ckpt {
namespace {

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  for (size_t at = text.find_first_not_of(" \t"); at != std::string::npos; at = text.find_first_not_of(" \t", at)) {
    const size_t end = std::min(text.find_first_of(" \t", at), text.size());
    out.push_back(text.substr(at, end - at));
    at = end;
  }
  return out;
}

}  // namespace

bool restart_spans_hosts(const RestartOptions& opt) {
  return opt.host_map_given ||
         std::any_of(opt.image_hosts.begin(), opt.image_hosts.end(), [](const std::string& h) { return !h.empty(); });
}

std::vector<HostShare> plan_host_shares(const RestartOptions& opt, const std::vector<std::string>& ran_on) {
  std::vector<HostShare> shares;
  for (size_t i = 0; i < opt.images.size(); ++i) {
    auto share = std::find_if(shares.begin(), shares.end(), [&](const HostShare& s) { return s.from == ran_on[i]; });
    if (share == shares.end()) {
      std::string to = ran_on[i];
      if (opt.host_map_given) {
        auto mapped = std::find_if(opt.host_map.begin(), opt.host_map.end(),
                                   [&](const auto& pair) { return pair.first == ran_on[i]; });
        if (mapped == opt.host_map.end()) {
          const auto n = std::count(ran_on.begin(), ran_on.end(), ran_on[i]);
          throw RestartError("host " + ran_on[i] + " is not in the host map (--host/--hostfile), and " +
                             std::to_string(n) + " of the images are of processes that ran there (" + opt.images[i] +
                             (n > 1 ? ", ..." : "") + ")");
        }
        to = mapped->second;
      }
      shares.push_back({ran_on[i], to, {}});
      share = shares.end() - 1;
    }
    share->images.push_back(opt.images[i]);
  }
  return shares;
}

std::vector<std::string> share_command(const HostShare& share, const RestartOptions& opt, const ShareJoin& join,
                                       const std::string& this_host) {
  const bool remote = share.to != this_host;
  std::vector<std::string> cmd;
  if (remote) {
    if (opt.rsh == CKPT_RSH_NONE)
      throw RestartError("the processes of host " + share.from + " restart on " + share.to +
                         ", but the remote shell is 'none' (give --rsh)");
    cmd = words(opt.rsh.empty() ? std::string(CKPT_DEFAULT_RSH) : opt.rsh);
    cmd.push_back(share.to);
    if (ckpt_loopback_host(join.coord_host.c_str()))
      throw RestartError("the processes of host " + share.from + " restart on " + share.to +
                         ", which cannot reach a coordinator at " + join.coord_host +
                         ": give --coord-host an address the other hosts reach");
  }
  const size_t first = cmd.size();
  cmd.insert(cmd.end(), {join.restart_program, "--join", "--coord-host", join.coord_host, "--coord-port",
                         std::to_string(join.coord_port), "--secret-file", join.secret_file, "--host-name", share.to,
                         "--host-share"});
  if (!opt.ckptdir.empty()) cmd.insert(cmd.end(), {"--ckptdir", opt.ckptdir});
  for (const auto& [from, to] : opt.relocations) cmd.insert(cmd.end(), {"--relocate", from + "=" + to});
  if (opt.path_map)
    for (size_t at = 0, nl; (nl = opt.path_map->find('\n', at)) != std::string::npos; at = nl + 1)
      cmd.insert(cmd.end(), {"--path-map", opt.path_map->substr(at, nl - at)});
  if (!opt.restore_pids) cmd.push_back("--no-restore-pids");
  if (!opt.check_data) cmd.push_back("--no-verify");
  if (!opt.lazy) cmd.push_back("--no-lazy");
  for (const std::string& lib : opt.plugins) cmd.insert(cmd.end(), {"--plugin", lib});
  cmd.insert(cmd.end(), share.images.begin(), share.images.end());
  if (remote)
    for (size_t i = first; i < cmd.size(); ++i)
      if (!ckpt_shell_safe(cmd[i].c_str()))
        throw RestartError("cannot restart the processes of host " + share.from + " on " + share.to + ": '" + cmd[i] +
                           "' has characters the remote shell would interpret");
  return cmd;
}

std::string this_host_name(const RestartOptions& opt) {
  if (!opt.host_name.empty()) return opt.host_name;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

}  // namespace ckpt
