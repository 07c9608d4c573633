// Command line and environment of ckpt_restart, on the shared command-line
// layer (cli/cli.h). Pure parsing (the environment comes through a lookup
// function) so it can be unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ckpt/protocol.h"
#include "cli.h"

namespace ckpt {

struct RestartOptions {
  std::string coord_host = "localhost";
  uint16_t coord_port = proto::kDefaultPort;
  std::string secret_file;  // --secret-file, CKPT_SECRET_FILE; empty: the default for the port
  bool join = false;             // require a running coordinator
  bool new_coordinator = false;  // always start a fresh one
  bool restore_pids = true;      // try to get the original pids back (clone3 set_tid)
  bool check_data = true;        // check every region's checksum before restoring
  bool verify_only = false;      // check everything a restart checks, then stop
  bool lazy = true;              // run before memory is read (--no-lazy; lazy_pages.h)
  std::string ckptdir;           // where later checkpoints go; empty: as saved
  std::string tmpdir;            // --tmpdir: the restored processes' temporary files; empty: as saved
  // --env-file FILE: applied to each restored process's environment before it
  // runs again (format: libckpt/src/restart_env.h); empty: none.
  std::string env_file;
  bool modify_env = false;       // --modify-env: the image directory's dmtcp_env.txt, if any
  unsigned keep = 0;             // --keep for a coordinator ckpt_restart starts; 0: its default
  bool info = false;             // print the images instead of restoring
  bool json = false;             // with --info
  // --relocate OLD=NEW, in command-line order: path prefixes rewritten for
  // reopened files, working directories and file mappings.
  std::vector<std::pair<std::string, std::string>> relocations;
  // --path-map VIRTUAL=REAL (CKPT_RESTART_PATH_MAP, DMTCP_PATH_MAPPING): the
  // restored processes' new path map (plugins/path), as CKPT_PATH_MAP's
  // text; nullopt: each keeps the one it had.
  std::optional<std::string> path_map;
  std::string run_on_fail;  // shell command run when the restart fails before any process runs
  std::vector<std::string> plugins;  // shared libraries with third-party restart kinds (ckpt/restart.h)
  // Several hosts (see restart_hosts.h).
  std::string host_name;  // --host-name, CKPT_HOST_NAME: this host's name; empty: the kernel's
  std::string rsh;        // --rsh, CKPT_RSH: the remote shell; empty: the default (ssh)
  // --host OLD=NEW and --hostfile's lines: the processes checkpointed on OLD
  // restart on NEW. Given at all: every host of the images must be in it.
  std::vector<std::pair<std::string, std::string>> host_map;
  bool host_map_given = false;
  // --host-share: the images are this host's share of a computation that
  // spans hosts; the other shares are restarted by other ckpt_restarts
  // joining the same coordinator.
  bool host_share = false;
  std::vector<std::string> images;
  // Parallel to images: the host an operand HOST:/PATH names (the restart
  // script of a computation on several hosts writes them so); empty: none.
  std::vector<std::string> image_hosts;
};

struct RestartParse {
  cli::Outcome action = cli::Outcome::Run;
  RestartOptions options;
  std::string error;  // one line, "ckpt_restart: ..." (exit status cli::kExitUsage)
};

using RestartEnvLookup = cli::EnvLookup;

RestartParse parse_restart_options(int argc, const char* const* argv, const RestartEnvLookup& env);
std::string restart_usage();

}  // namespace ckpt
