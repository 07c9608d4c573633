// Command line and environment of ckpt_launch, on the shared command-line
// layer (cli/cli.h).
//
// Every option has a CKPT_* environment twin; a flag on the command line
// overrides its twin. Parsing is pure (the environment comes in through a
// lookup function) so the rules can be unit-tested.
#pragma once

#include "ckpt/environment.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ckpt/protocol.h"
#include "cli.h"

namespace ckpt {

struct LaunchOptions {
  std::string coord_host = "localhost";
  uint16_t coord_port = proto::kDefaultPort;
  std::string secret_file;  // --secret-file, CKPT_SECRET_FILE; empty: the default for the port
  std::string ckptdir;  // as given; empty means the current directory
  unsigned interval = 0;  // seconds between periodic checkpoints; 0 = none
  unsigned keep = 0;      // --keep for a coordinator ckpt_launch starts; 0: its default
  bool compress = true;
  // --compress-threads, CKPT_COMPRESS_THREADS: threads compressing each
  // image; 0: one per CPU (at most 8), 1: only the writer's own.
  unsigned compress_threads = 0;
  // --no-fsync, CKPT_NO_FSYNC: images are left in the page cache, not
  // durable (CKPT_FSYNC=0 for libckpt).
  bool fsync = true;
  // Incremental images (CKPT_INCREMENTAL for libckpt), and how many images
  // a chain holds at most before a full one (CKPT_FULL_EVERY).
  bool incremental = true;
  unsigned full_every = CKPT_DEFAULT_FULL_EVERY;
  bool join = false;             // require a running coordinator
  bool new_coordinator = false;  // always start a fresh coordinator
  // Something ckpt cannot save does not fail a checkpoint; it comes back as
  // a placeholder (CKPT_ACCEPT_LOSS for libckpt).
  bool accept_loss = false;
  // A connection to outside the computation fails the checkpoint instead of
  // coming back closed (CKPT_OUTSIDE_CONNECTIONS=fail for plugins/socket).
  bool fail_outside_connections = false;
  // File policy rules in order, one "GLOB=POLICY" per line: the value of
  // CKPT_FILE_POLICY (plugins/fd/file_policy.h). Empty: none.
  std::string file_policy;
  std::string host_name;  // --host-name, CKPT_HOST_NAME; empty: the kernel's
  std::string rsh;        // --rsh, CKPT_RSH; empty: the default (ssh)
  // --tmpdir, CKPT_TMPDIR: where ckpt keeps the processes' temporary files
  // (created if missing); empty: $TMPDIR, else /tmp.
  std::string tmpdir;
  // --modify-env, CKPT_MODIFY_ENV: every restart applies the image
  // directory's dmtcp_env.txt (DMTCP's modify-env plugin).
  bool modify_env = false;
  // --preload (DMTCP's --with-plugin): libraries preloaded after libckpt.so,
  // in order (DMTCP plugins, wrappers of one's own).
  std::vector<std::string> preload;
  // --path-map VIRTUAL=REAL (CKPT_PATH_MAP, DMTCP_PATH_MAPPING): the
  // program sees files under VIRTUAL that lie under REAL (plugins/path), as
  // CKPT_PATH_MAP's text; nullopt: no map.
  std::optional<std::string> path_map;
  std::vector<std::string> program;  // PROG followed by its arguments
};

// Run: options are valid and program is non-empty; Help: print
// launch_usage(); Version; Error: print `error` (one line) and exit with
// `exit_code`.
using LaunchAction = cli::Outcome;

struct LaunchParse {
  LaunchAction action = LaunchAction::Run;
  LaunchOptions options;
  std::string error;  // "ckpt_launch: ..." without a trailing newline
  int exit_code = 0;
};

// Exit codes of ckpt_launch's own failures besides the shared ones
// (cli::kExitUsage ...). Once the program is exec'd, the exit status is the
// program's.
inline constexpr int kExitNotFound = 127;  // PROG missing, not found or not executable (as a shell)

using EnvLookup = cli::EnvLookup;

// Parses argv (argv[0] is ckpt_launch itself). Options end at the first
// argument that is not an option, or after "--".
LaunchParse parse_launch_options(int argc, const char* const* argv, const EnvLookup& env);

// The --help text: every option with its environment twin and default.
std::string launch_usage();

// Resolves PROG like execvp does: a name containing '/' is taken as a path,
// anything else is searched in `path_var` (PATH). Returns the path to exec,
// or an empty string with `error` set ("foo: command not found").
std::string resolve_program(const std::string& prog, const char* path_var, std::string& error);

// An LD_PRELOAD value without its libckpt.so entries (any path, any version
// suffix), the others joined with ':'.
std::string preload_without_libckpt(std::string_view preload);

}  // namespace ckpt
