#include "options.h"

#include <arpa/inet.h>

#include <utility>

namespace ckpt::coord {
namespace {

constexpr unsigned long long kMaxTimeout = 1000000;
constexpr unsigned long long kMaxLogSize = 1ull << 40;

// Runs `p` over args (without the tool's own name), reading the options
// with `read`.
template <typename Parse, typename Read>
Parse run(cli::Parser& p, const std::vector<std::string>& args, Read read) {
  Parse r;
  std::vector<const char*> argv{p.tool().c_str()};
  for (const std::string& a : args) argv.push_back(a.c_str());
  r.outcome = p.run(static_cast<int>(argv.size()), argv.data(), [&] { read(p, r.options); }, r.error);
  return r;
}

// ckpt_coordinator's command line.
struct CoordinatorCli : cli::Parser {
  explicit CoordinatorCli(const EnvLookup& env)
      : Parser("ckpt_coordinator", "ckpt_coordinator [OPTION]...",
               "Coordinate the checkpoints of the processes started by ckpt_launch.", env) {
    define(*this);
  }
  static void define(cli::Parser& p);
};

void CoordinatorCli::define(cli::Parser& p) {
  p.value("-p,--port,--coord-port", "PORT",
          "listen on PORT; 0: any free port [" + std::to_string(proto::kDefaultPort) + "]", "CKPT_COORD_PORT");
  p.value("--port-file", "FILE", "write the port actually listened on to FILE");
  p.value("--listen", "ADDR",
          "listen on the numeric address ADDR: 0.0.0.0 or :: for every interface, as a computation that "
          "spans hosts needs [127.0.0.1: this host only]",
          "CKPT_COORD_LISTEN");
  cli::add_ckptdir(p, "directory for the images (overrides the processes') and the restart script", "");
  cli::add_interval(p, "checkpoint every N seconds; 0: off [0]", "");
  p.value("--timeout", "SEC", "fail a checkpoint whose barrier takes longer than SEC seconds [60]", "CKPT_TIMEOUT");
  cli::add_keep(p);
  p.flag("--exit-on-last", "exit when the last process disconnects (or none connected within --timeout)");
  p.flag("--daemon", "run in the background once listening; log to --log");
  p.value("--log", "FILE", "log file of a daemon [${TMPDIR:-/tmp}/ckpt-UID/ckpt_coordinator.PORT.log]");
  cli::add_secret_file(p);
  p.value("--log-size", "BYTES",
          "when the log file reaches BYTES, rename it to FILE.1 (replacing that) and start a new one [" +
              std::to_string(kDefaultLogSize) + "]",
          "CKPT_LOG_SIZE");
  p.exit_statuses("the coordinator failed (it cannot listen on PORT, write --port-file ...)", false);
}

void read_coordinator(const cli::Parser& p, CoordinatorOptions& o) {
  if (auto port = p.setting("--port")) o.port = cli::to_port(*port, true);
  if (auto f = p.setting("--port-file")) o.port_file = cli::to_nonempty(*f);
  if (auto listen = p.setting("--listen")) {
    in6_addr any;
    if (::inet_pton(AF_INET, listen->value.c_str(), &any) != 1 && ::inet_pton(AF_INET6, listen->value.c_str(), &any) != 1)
      throw cli::UsageError(listen->source + ": '" + listen->value + "' is not a numeric IPv4 or IPv6 address");
    o.listen = listen->value;
  }
  if (auto dir = cli::ckptdir(p)) o.ckptdir = *dir;
  if (auto interval = cli::interval(p)) {
    o.interval = *interval;
    o.interval_given = true;
  }
  if (auto timeout = p.setting("--timeout")) {
    o.timeout = static_cast<unsigned>(cli::to_number(*timeout, kMaxTimeout));
    if (o.timeout == 0) throw cli::UsageError(timeout->source + ": must be at least 1 second");
  }
  if (auto keep = cli::keep(p)) o.keep = *keep;
  o.exit_on_last = p.given("--exit-on-last");
  o.daemon = p.given("--daemon");
  if (auto log = p.setting("--log")) o.log_file = cli::to_nonempty(*log);
  if (auto file = cli::secret_file(p)) o.secret_file = *file;
  if (auto size = p.setting("--log-size")) {
    o.log_size = cli::to_number(*size, kMaxLogSize);
    if (o.log_size < kMinLogSize)
      throw cli::UsageError(size->source + ": must be at least " + std::to_string(kMinLogSize) + " bytes");
  }
}

// The actions, one of which ckpt_command needs.
constexpr std::pair<const char*, CommandAction> kActions[] = {
    {"--checkpoint", CommandAction::Checkpoint}, {"--status", CommandAction::Status},
    {"--list", CommandAction::List},             {"--interval", CommandAction::Interval},
    {"--kill", CommandAction::Kill},             {"--quit", CommandAction::Quit}};

// ckpt_command's command line.
struct CommandCli : cli::Parser {
  explicit CommandCli(const EnvLookup& env)
      : Parser("ckpt_command", "ckpt_command [OPTION]... ACTION",
               "Talk to a running ckpt_coordinator: one ACTION, one reply.", env) {
    define(*this);
  }
  static void define(cli::Parser& p);
};

void CommandCli::define(cli::Parser& p) {
  p.flag("-c,--checkpoint,--bcheckpoint",
         "checkpoint every process; returns once every image is written (-bc as well)");
  p.flag("--then-kill",
         "with --checkpoint: the processes do not run again after the snapshot; once the images are committed they "
         "are killed (to move a computation, or for programs whose files must match the images, as a database's)");
  p.flag("-s,--status", "coordinator state and the last checkpoint");
  p.flag("-l,--list", "one line per process");
  cli::add_interval(p, "checkpoint every N seconds from now on; 0: off", "");
  p.flag("-k,--kill", "kill every process of the computation");
  p.flag("-q,--quit", "kill every process and stop the coordinator");
  cli::add_coordinator_address(p, false);
  p.flag("--json", "print the coordinator's reply as JSON");
  // DMTCP's blocking checkpoint; ours always waits for the images.
  p.alias("-bc", "--checkpoint");
  p.exit_statuses("the action failed (a checkpoint failed, the coordinator refused ...)", true);
}

void read_command(const cli::Parser& p, CommandOptions& o) {
  std::vector<std::string> names;
  for (const auto& [name, action] : kActions) names.push_back(name);
  std::string first;
  for (const cli::Setting& given : p.in_order(names)) {
    if (first.empty()) first = given.source;
    else if (given.source != first) throw cli::UsageError(first + " and " + given.source + " cannot be combined");
  }
  if (first.empty()) throw cli::UsageError("no action given (try --help)");
  for (const auto& [name, action] : kActions)
    if (first == name) o.action = action;
  if (o.action == CommandAction::Interval) o.interval = *cli::interval(p);
  o.json = p.given("--json");
  o.then_kill = p.given("--then-kill");
  if (o.then_kill && o.action != CommandAction::Checkpoint) throw cli::UsageError("--then-kill goes with --checkpoint");
  const cli::CoordinatorAddress address = cli::coordinator_address(p, nullptr);
  o.host = address.host;
  o.port = address.port;
  o.secret_file = address.secret_file;
}

}  // namespace

CoordinatorParse parse_coordinator_args(const std::vector<std::string>& args, const EnvLookup& env) {
  CoordinatorCli p(env);
  return run<CoordinatorParse>(p, args, read_coordinator);
}

std::string coordinator_usage() { return CoordinatorCli(nullptr).help(); }

CommandParse parse_command_args(const std::vector<std::string>& args, const EnvLookup& env) {
  CommandCli p(env);
  return run<CommandParse>(p, args, read_command);
}

std::string command_usage() { return CommandCli(nullptr).help(); }

}  // namespace ckpt::coord
