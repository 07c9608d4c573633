#include "launch_options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <optional>
#include <sstream>
#include <string_view>

#include "file_policy.h"

namespace ckpt {
namespace {

// One setting as it comes from the command line or the environment; `source`
// names where it came from ("--interval" or "CKPT_INTERVAL") for messages.
struct Raw {
  std::string value;
  std::string source;
};

struct ParseError {
  std::string message;
  int exit_code = kExitUsage;
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

std::optional<unsigned long long> parse_number(const Raw& raw, unsigned long long max, ParseError& err) {
  const std::string& v = raw.value;
  unsigned long long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec == std::errc::invalid_argument || end != v.data() + v.size()) {
    err.message = raw.source + ": " + quoted(v) + " is not a number";
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || n > max) {
    err.message = raw.source + ": " + quoted(v) + " is out of range (at most " + std::to_string(max) + ")";
    return std::nullopt;
  }
  return n;
}

std::optional<bool> parse_bool(const Raw& raw, ParseError& err) {
  const std::string& v = raw.value;
  if (v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no") return false;
  err.message = raw.source + ": " + quoted(v) + " is not a boolean (use 1 or 0)";
  return std::nullopt;
}

// Settings gathered from one source (flags or environment) before they are
// merged; an unset optional means "not given there".
struct Given {
  std::optional<Raw> host, port, dir, interval;
  std::optional<bool> no_compress, join, new_coordinator;
  std::string join_source, new_source;  // for the conflict message
  // --file-policy rules and --file-policy-file files in command-line order
  // (`source` says which), or the CKPT_FILE_POLICY value.
  std::vector<Raw> policies;
};

// The whole of a (small) file; false with errno set.
bool read_text_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int saved = errno;
  ::close(fd);
  errno = saved;
  return n == 0;
}

// Appends the rules of `text` (one per line, blank lines and # comments
// skipped) to `out`, checking each; `where` names the source in messages.
bool add_policy_lines(const std::string& text, const std::string& where, std::string& out, ParseError& err) {
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!fd::is_rule_line(line.data(), line.size())) continue;
    fd::Rule rule;
    fd::RuleError e = fd::parse_rule(line.data(), line.size(), &rule);
    if (e != fd::RuleError::None) {
      err.message = where + ": line " + std::to_string(number) + ": " + quoted(line) + ": " + fd::rule_error_text(e);
      return false;
    }
    out += line + "\n";
  }
  return true;
}

// The CKPT_FILE_POLICY value for the gathered rules; the plugin's own table
// must be able to hold it all.
bool encode_policies(const std::vector<Raw>& given, std::string& out, ParseError& err) {
  out.clear();
  for (const Raw& raw : given) {
    if (raw.source == "--file-policy") {
      fd::Rule rule;
      fd::RuleError e = raw.value.find('\n') != std::string::npos
                            ? fd::RuleError::BadGlob
                            : fd::parse_rule(raw.value.data(), raw.value.size(), &rule);
      if (e != fd::RuleError::None) {
        err.message = raw.source + ": " + quoted(raw.value) + ": " + fd::rule_error_text(e);
        return false;
      }
      out += raw.value + "\n";
    } else if (raw.source == "--file-policy-file") {
      std::string text;
      if (!read_text_file(raw.value, text)) {
        err.message = raw.source + ": cannot read " + quoted(raw.value) + ": " + std::strerror(errno);
        return false;
      }
      if (!add_policy_lines(text, raw.source + " " + raw.value, out, err)) return false;
    } else if (!add_policy_lines(raw.value, raw.source, out, err)) {
      return false;
    }
  }
  static fd::PolicyTable table;  // large: not on the stack
  size_t line;
  bool overflow;
  table.load(out.c_str(), &line, &overflow);
  if (overflow) {
    err.message = "file policies: more than " + std::to_string(fd::PolicyTable::kMaxRules) + " rules or " +
                  std::to_string(fd::PolicyTable::kMaxText / 1024) + " KiB of globs";
    return false;
  }
  return true;
}

bool read_env(const EnvLookup& env, Given& g, ParseError& err) {
  auto text = [&](const char* name, std::optional<Raw>& slot) {
    const char* v = env(name);
    // An empty variable counts as unset, as for most CKPT_* consumers.
    if (v != nullptr && *v != '\0') slot = Raw{v, name};
  };
  auto flag = [&](const char* name, std::optional<bool>& slot, std::string* source) {
    const char* v = env(name);
    if (v == nullptr || *v == '\0') return true;
    std::optional<bool> b = parse_bool(Raw{v, name}, err);
    if (!b) return false;
    slot = *b;
    if (source != nullptr) *source = name;
    return true;
  };
  text("CKPT_COORD_HOST", g.host);
  text("CKPT_COORD_PORT", g.port);
  text("CKPT_DIR", g.dir);
  text("CKPT_INTERVAL", g.interval);
  if (const char* v = env("CKPT_FILE_POLICY"); v != nullptr && *v != '\0') g.policies.push_back(Raw{v, "CKPT_FILE_POLICY"});
  return flag("CKPT_NO_COMPRESS", g.no_compress, nullptr) && flag("CKPT_JOIN", g.join, &g.join_source) &&
         flag("CKPT_NEW_COORDINATOR", g.new_coordinator, &g.new_source);
}

// Parses the options in argv[1..]; on success `first_prog` is the index of
// PROG (== argc when it is missing).
bool read_flags(int argc, const char* const* argv, Given& g, LaunchAction& action, int& first_prog,
                ParseError& err) {
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // PROG (a lone "-" is a program name too)

    std::string name(arg);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos && name.starts_with("--")) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto value = [&](std::optional<Raw>& slot) {
      if (inline_value) {
        slot = Raw{*inline_value, name};
      } else if (i + 1 < argc) {
        slot = Raw{argv[++i], name};
      } else {
        err.message = name + " needs a value";
        return false;
      }
      return true;
    };
    auto no_value = [&](std::optional<bool>& slot) {
      if (inline_value) {
        err.message = name + " takes no value";
        return false;
      }
      slot = true;
      return true;
    };

    bool ok = true;
    if (name == "--help" || name == "-h") {
      action = LaunchAction::Help;
      return true;
    } else if (name == "--version") {
      action = LaunchAction::Version;
      return true;
    } else if (name == "--coord-host") {
      ok = value(g.host);
    } else if (name == "--coord-port") {
      ok = value(g.port);
    } else if (name == "--ckptdir") {
      ok = value(g.dir);
    } else if (name == "--interval") {
      ok = value(g.interval);
    } else if (name == "--file-policy" || name == "--file-policy-file") {
      std::optional<Raw> rule;
      ok = value(rule);
      if (ok) g.policies.push_back(*rule);
    } else if (name == "--no-compress") {
      ok = no_value(g.no_compress);
    } else if (name == "--join") {
      ok = no_value(g.join);
      g.join_source = name;
    } else if (name == "--new-coordinator") {
      ok = no_value(g.new_coordinator);
      g.new_source = name;
    } else {
      err.message = "unknown option " + quoted(name) + " (see --help)";
      ok = false;
    }
    if (!ok) return false;
  }
  first_prog = i;
  return true;
}

bool apply(const Given& flags, const Given& env, LaunchOptions& o, ParseError& err) {
  auto pick = [](const std::optional<Raw>& f, const std::optional<Raw>& e) { return f ? f : e; };

  if (auto host = pick(flags.host, env.host)) {
    if (host->value.empty()) {
      err.message = host->source + ": empty host name";
      return false;
    }
    o.coord_host = host->value;
  }
  if (auto dir = pick(flags.dir, env.dir)) {
    if (dir->value.empty()) {
      err.message = dir->source + ": empty directory name";
      return false;
    }
    o.ckptdir = dir->value;
  }
  if (auto interval = pick(flags.interval, env.interval)) {
    auto n = parse_number(*interval, UINT_MAX, err);
    if (!n) return false;
    o.interval = static_cast<unsigned>(*n);
  }
  if (auto nc = flags.no_compress ? flags.no_compress : env.no_compress) o.compress = !*nc;
  if (!encode_policies(flags.policies.empty() ? env.policies : flags.policies, o.file_policy, err)) return false;

  // --join and --new-coordinator choose one coordinator mode, so they are
  // resolved together: a mode flag overrides any mode variable, and the two
  // only conflict when given by the same source.
  const Given& mode = (flags.join || flags.new_coordinator) ? flags : env;
  o.join = mode.join.value_or(false);
  o.new_coordinator = mode.new_coordinator.value_or(false);
  if (o.join && o.new_coordinator) {
    err.message = mode.join_source + " and " + mode.new_source + " exclude each other";
    return false;
  }

  if (auto port = pick(flags.port, env.port)) {
    auto n = parse_number(*port, 65535, err);
    if (!n) return false;
    // Port 0 asks the new coordinator to pick a free port; joining or auto
    // mode needs a definite address.
    if (*n == 0 && !o.new_coordinator) {
      err.message = port->source + ": port 0 (any free port) needs --new-coordinator";
      return false;
    }
    o.coord_port = static_cast<uint16_t>(*n);
  }
  return true;
}

}  // namespace

LaunchParse parse_launch_options(int argc, const char* const* argv, const EnvLookup& env) {
  LaunchParse result;
  Given flags, from_env;
  ParseError err;
  int first_prog = argc;
  bool ok = read_flags(argc, argv, flags, result.action, first_prog, err);
  if (ok && result.action != LaunchAction::Run) return result;
  ok = ok && read_env(env, from_env, err) && apply(flags, from_env, result.options, err);
  if (ok && first_prog >= argc) {
    err.message = "missing program to run (see --help)";
    err.exit_code = kExitNotFound;
    ok = false;
  }
  if (!ok) {
    result.action = LaunchAction::Error;
    result.error = "ckpt_launch: " + err.message;
    result.exit_code = err.exit_code;
    return result;
  }
  result.options.program.assign(argv + first_prog, argv + argc);
  return result;
}

std::string launch_usage() {
  return R"(Usage: ckpt_launch [OPTION]... PROG [ARG]...
Run PROG with checkpointing enabled: libckpt.so is preloaded into it (and into
every process it starts), and it connects to a ckpt_coordinator, which is
started if none is running.

Each option has an environment twin; an option given on the command line
overrides its twin.

  --coord-host H      coordinator host                 CKPT_COORD_HOST   (localhost)
  --coord-port P      coordinator port; 0 with         CKPT_COORD_PORT   (7779)
                      --new-coordinator picks a free port
  --ckptdir D         directory for checkpoint images  CKPT_DIR          (current directory)
                      (created if missing)
  --interval N        checkpoint every N seconds;      CKPT_INTERVAL     (0)
                      0 = only on request
  --no-compress       write uncompressed images        CKPT_NO_COMPRESS=1 (compress)
  --file-policy GLOB=POLICY                            CKPT_FILE_POLICY  (merge)
                      what restart does with open files whose path
                      matches GLOB (repeatable; the first match wins):
                      merge (reopen at the saved offset), ignore
                      (reopen at offset 0), append (at the end), replace
                      (write the checkpointed contents back), substitute
                      (a private copy of the checkpointed contents);
                      * also matches '/', ? one character, [...] a set
  --file-policy-file FILE
                      more rules from FILE, one GLOB=POLICY per line
                      (# comments); CKPT_FILE_POLICY holds the rules
                      one per line
  --join              require a running coordinator    CKPT_JOIN=1
  --new-coordinator   start a fresh coordinator        CKPT_NEW_COORDINATOR=1
                      (exclusive with --join)
  -h, --help          show this help and exit
      --version       show the version and exit

Without --join or --new-coordinator, ckpt_launch uses the coordinator at
host:port if one is running and otherwise starts one in the background,
without waiting for it (PROG starts at once and connects when it is ready).

PROG replaces ckpt_launch (same pid); the exit status is PROG's.
ckpt_launch's own errors exit with 2; 127 if PROG is missing, not found or
not executable.
)";
}

std::string resolve_program(const std::string& prog, const char* path_var, std::string& error) {
  auto executable = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (prog.empty()) {
    error = "empty program name";
    return {};
  }
  if (prog.find('/') != std::string::npos) {
    if (executable(prog)) return prog;
    error = prog + ": " + (::access(prog.c_str(), F_OK) == 0 ? "not an executable file" : "no such file");
    return {};
  }
  // As execvp: an unset PATH means the default search path; an empty entry
  // means the current directory.
  std::string_view path = path_var != nullptr ? path_var : "/bin:/usr/bin";
  for (;;) {
    size_t colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + prog;
    if (executable(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  error = prog + ": command not found";
  return {};
}

}  // namespace ckpt
