// Command line and environment of ckpt_restart, on the shared command-line
// layer (cli/cli.h). Pure parsing (the environment comes through a lookup
// function) so it can be unit-tested.
#pragma once

#include <cstdint>
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
  std::string ckptdir;           // where later checkpoints go; empty: as saved
  unsigned keep = 0;             // --keep for a coordinator ckpt_restart starts; 0: its default
  bool info = false;             // print the images instead of restoring
  bool json = false;             // with --info
  // --relocate OLD=NEW, in command-line order: path prefixes rewritten for
  // reopened files, working directories and file mappings.
  std::vector<std::pair<std::string, std::string>> relocations;
  std::string run_on_fail;  // shell command run when the restart fails before any process runs
  std::vector<std::string> plugins;  // shared libraries with third-party restart kinds (ckpt/restart.h)
  std::vector<std::string> images;
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
