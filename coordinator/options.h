// Command-line parsing of ckpt_coordinator and ckpt_command on the shared
// command-line layer (launcher/cli/cli.h), kept apart from their main()s so
// the rules (flags, --flag=value forms, environment twins, DMTCP's
// spellings) are unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/protocol.h"
#include "cli.h"

namespace ckpt::coord {

// getenv, injectable for tests.
using EnvLookup = cli::EnvLookup;

// What a parser decided: run with the options, print the usage or the
// version, or fail with a one-line error (exit status cli::kExitUsage).
using ParseOutcome = cli::Outcome;

// A daemon's log is renamed to FILE.1 when it reaches this size (log.h).
inline constexpr uint64_t kDefaultLogSize = 8u << 20;
inline constexpr uint64_t kMinLogSize = 4096;

struct CoordinatorOptions {
  uint16_t port = proto::kDefaultPort;  // --port, CKPT_COORD_PORT; 0 = pick a free one
  std::string port_file;                // --port-file: where to write the port actually bound
  std::string listen = "127.0.0.1";     // --listen, CKPT_COORD_LISTEN: numeric address to listen on
  std::string ckptdir;                  // --ckptdir
  unsigned interval = 0;                // --interval seconds
  bool interval_given = false;
  bool exit_on_last = false;            // --exit-on-last
  bool daemon = false;                  // --daemon
  std::string log_file;                 // --log: where a daemon writes its log
  uint64_t log_size = kDefaultLogSize;  // --log-size, CKPT_LOG_SIZE: bytes at which that log is rotated
  unsigned timeout = 60;                // --timeout, CKPT_TIMEOUT: barrier timeout in seconds
  std::string secret_file;              // --secret-file, CKPT_SECRET_FILE; empty: the default for the port
  unsigned keep = proto::kDefaultKeep;  // --keep, CKPT_KEEP: committed generations kept
};

struct CoordinatorParse {
  ParseOutcome outcome = ParseOutcome::Run;
  CoordinatorOptions options;
  std::string error;  // "ckpt_coordinator: ..."
};

CoordinatorParse parse_coordinator_args(const std::vector<std::string>& args, const EnvLookup& env);
std::string coordinator_usage();

enum class CommandAction { Checkpoint, Status, List, Interval, Kill, Quit };

struct CommandOptions {
  CommandAction action = CommandAction::Status;
  unsigned interval = 0;  // for CommandAction::Interval
  bool json = false;
  bool then_kill = false;  // --then-kill, with --checkpoint
  std::string host = "localhost";       // --coord-host, CKPT_COORD_HOST
  uint16_t port = proto::kDefaultPort;  // --coord-port, CKPT_COORD_PORT
  std::string secret_file;              // --secret-file, CKPT_SECRET_FILE; empty: the default for the port
};

struct CommandParse {
  ParseOutcome outcome = ParseOutcome::Run;
  CommandOptions options;
  std::string error;  // "ckpt_command: ..."
};

// DMTCP's spellings work too: -s -l -c -bc -k -q -i N, -h HOST, -p PORT.
CommandParse parse_command_args(const std::vector<std::string>& args, const EnvLookup& env);
std::string command_usage();

}  // namespace ckpt::coord
