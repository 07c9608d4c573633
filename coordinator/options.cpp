#include "options.h"

#include <charconv>
#include <optional>

namespace ckpt::coord {

const char* const kCoordinatorUsage =
    "Usage: ckpt_coordinator [OPTIONS]\n"
    "Coordinates checkpoints of the processes started by ckpt_launch.\n"
    "\n"
    "  --port N         listen on port N (default 7779, env CKPT_COORD_PORT; 0 picks a free port)\n"
    "  --port-file F    write the port actually listened on to F\n"
    "  --ckptdir D      directory for the images (overrides the processes') and the restart script\n"
    "  --interval N     checkpoint every N seconds (0 = off, the default)\n"
    "  --timeout SEC    fail a checkpoint whose barrier takes longer (default 60, env CKPT_TIMEOUT)\n"
    "  --exit-on-last   exit when the last process disconnects (or none connected within --timeout)\n"
    "  --daemon         run in the background once listening; log to --log\n"
    "  --log F          log file of a daemon (default ${TMPDIR:-/tmp}/ckpt_coordinator.PORT.log)\n"
    "  --help           show this help\n";

const char* const kCommandUsage =
    "Usage: ckpt_command [--coord-host H] [--coord-port P] [--json] ACTION\n"
    "Talks to a running ckpt_coordinator (default localhost:7779, env CKPT_COORD_HOST/CKPT_COORD_PORT).\n"
    "\n"
    "Actions:\n"
    "  --checkpoint     checkpoint every process; returns once every image is written\n"
    "  --status         coordinator state and the last checkpoint\n"
    "  --list           one line per process\n"
    "  --interval N     checkpoint every N seconds (0 = off)\n"
    "  --kill           kill every process of the computation\n"
    "  --quit           kill every process and stop the coordinator\n"
    "\n"
    "  --json           print machine-readable JSON\n"
    "  --help           show this help\n";

namespace {

std::optional<unsigned long> parse_number(const std::string& text, unsigned long max) {
  unsigned long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value > max) return std::nullopt;
  return value;
}

// Walks argv, splitting "--flag=value" and fetching the value of "--flag value".
class ArgReader {
 public:
  ArgReader(const std::vector<std::string>& args, std::string tool) : args_(args), tool_(std::move(tool)) {}

  bool next() {
    if (i_ >= args_.size()) return false;
    const std::string& a = args_[i_++];
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      flag_ = a.substr(0, eq);
      inline_value_ = a.substr(eq + 1);
    } else {
      flag_ = a;
      inline_value_.reset();
    }
    return true;
  }
  const std::string& flag() const { return flag_; }
  bool has_inline_value() const { return inline_value_.has_value(); }

  // The flag's value; on a missing one sets `error`.
  std::optional<std::string> value(std::string& error) {
    if (inline_value_) return inline_value_;
    if (i_ >= args_.size()) {
      error = tool_ + ": " + flag_ + " needs a value";
      return std::nullopt;
    }
    return args_[i_++];
  }
  std::optional<unsigned long> number(std::string& error, unsigned long max) {
    auto v = value(error);
    if (!v) return std::nullopt;
    auto n = parse_number(*v, max);
    if (!n) error = tool_ + ": " + flag_ + ": invalid value '" + *v + "'";
    return n;
  }

 private:
  const std::vector<std::string>& args_;
  std::string tool_;
  size_t i_ = 0;
  std::string flag_;
  std::optional<std::string> inline_value_;
};

// An environment twin: unset or empty means "not given".
bool env_number(const EnvLookup& env, const char* name, unsigned long max, const std::string& tool,
                unsigned long& out, std::string& error) {
  const char* v = env(name);
  if (v == nullptr || *v == '\0') return true;
  auto n = parse_number(v, max);
  if (!n) {
    error = tool + ": " + name + ": invalid value '" + v + "'";
    return false;
  }
  out = *n;
  return true;
}

}  // namespace

CoordinatorParse parse_coordinator_args(const std::vector<std::string>& args, const EnvLookup& env) {
  CoordinatorParse r;
  CoordinatorOptions& o = r.options;
  const std::string tool = "ckpt_coordinator";
  auto fail = [&r](std::string error) {
    r.outcome = ParseOutcome::Error;
    r.error = std::move(error);
    return r;
  };

  unsigned long port = o.port, timeout = o.timeout;
  if (!env_number(env, "CKPT_COORD_PORT", 65535, tool, port, r.error)) return fail(r.error);
  if (!env_number(env, "CKPT_TIMEOUT", 1000000, tool, timeout, r.error)) return fail(r.error);

  ArgReader in(args, tool);
  while (in.next()) {
    const std::string& f = in.flag();
    const bool takes_value = f == "--port" || f == "--port-file" || f == "--ckptdir" || f == "--interval" ||
                             f == "--timeout" || f == "--log";
    if (!takes_value && in.has_inline_value()) return fail(tool + ": " + f + " takes no value");
    if (f == "--help" || f == "-h") {
      r.outcome = ParseOutcome::Help;
      return r;
    } else if (f == "--port") {
      auto n = in.number(r.error, 65535);
      if (!n) return fail(r.error);
      port = *n;
    } else if (f == "--port-file" || f == "--ckptdir" || f == "--log") {
      auto v = in.value(r.error);
      if (!v) return fail(r.error);
      if (v->empty()) return fail(tool + ": " + f + " needs a non-empty value");
      (f == "--port-file" ? o.port_file : f == "--ckptdir" ? o.ckptdir : o.log_file) = *v;
    } else if (f == "--interval") {
      auto n = in.number(r.error, 100000000);
      if (!n) return fail(r.error);
      o.interval = static_cast<unsigned>(*n);
      o.interval_given = true;
    } else if (f == "--timeout") {
      auto n = in.number(r.error, 1000000);
      if (!n) return fail(r.error);
      timeout = *n;
    } else if (f == "--exit-on-last") {
      o.exit_on_last = true;
    } else if (f == "--daemon") {
      o.daemon = true;
    } else {
      return fail(tool + ": unknown option '" + f + "' (try --help)");
    }
  }
  if (timeout == 0) return fail(tool + ": --timeout must be at least 1 second");
  o.port = static_cast<uint16_t>(port);
  o.timeout = static_cast<unsigned>(timeout);
  return r;
}

CommandParse parse_command_args(const std::vector<std::string>& args, const EnvLookup& env) {
  CommandParse r;
  CommandOptions& o = r.options;
  const std::string tool = "ckpt_command";
  auto fail = [&r](std::string error) {
    r.outcome = ParseOutcome::Error;
    r.error = std::move(error);
    return r;
  };

  if (const char* h = env("CKPT_COORD_HOST"); h != nullptr && *h != '\0') o.host = h;
  unsigned long port = o.port;
  if (!env_number(env, "CKPT_COORD_PORT", 65535, tool, port, r.error)) return fail(r.error);

  std::optional<std::string> action_flag;
  auto set_action = [&](CommandAction a, const std::string& flag) {
    if (action_flag) {
      r.error = tool + ": " + *action_flag + " and " + flag + " cannot be combined";
      return false;
    }
    action_flag = flag;
    o.action = a;
    return true;
  };

  ArgReader in(args, tool);
  while (in.next()) {
    const std::string& f = in.flag();
    const bool takes_value = f == "--coord-host" || f == "--coord-port" || f == "--interval";
    if (!takes_value && in.has_inline_value()) return fail(tool + ": " + f + " takes no value");
    if (f == "--help" || f == "-h") {
      r.outcome = ParseOutcome::Help;
      return r;
    } else if (f == "--coord-host") {
      auto v = in.value(r.error);
      if (!v) return fail(r.error);
      if (v->empty()) return fail(tool + ": --coord-host needs a non-empty value");
      o.host = *v;
    } else if (f == "--coord-port") {
      auto n = in.number(r.error, 65535);
      if (!n) return fail(r.error);
      port = *n;
    } else if (f == "--json") {
      o.json = true;
    } else if (f == "--interval") {
      auto n = in.number(r.error, 100000000);
      if (!n) return fail(r.error);
      o.interval = static_cast<unsigned>(*n);
      if (!set_action(CommandAction::Interval, f)) return fail(r.error);
    } else {
      static const std::pair<const char*, CommandAction> kActions[] = {
          {"--checkpoint", CommandAction::Checkpoint}, {"--status", CommandAction::Status},
          {"--list", CommandAction::List},             {"--kill", CommandAction::Kill},
          {"--quit", CommandAction::Quit}};
      bool known = false;
      for (const auto& [name, action] : kActions) {
        if (f != name) continue;
        known = true;
        if (!set_action(action, f)) return fail(r.error);
      }
      if (!known) return fail(tool + ": unknown option '" + f + "' (try --help)");
    }
  }
  if (!action_flag) return fail(tool + ": no action given (try --help)");
  if (port == 0) return fail(tool + ": --coord-port must not be 0");
  o.port = static_cast<uint16_t>(port);
  return r;
}

}  // namespace ckpt::coord
