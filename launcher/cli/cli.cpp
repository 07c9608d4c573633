#include "cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "ckpt/environment.h"
#include "ckpt/protocol.h"

namespace ckpt::cli {
namespace {

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// --help as "Usage: SYNOPSIS", the description, the options ("-p, --coord-port
// PORT  text"), the notes and the exit statuses.
class HelpFormatter : public CLI::Formatter {
 public:
  explicit HelpFormatter(std::string usage) : usage_(std::move(usage)) { column_width(30); }
  std::string make_description(const CLI::App*) const override { return {}; }
  std::string make_usage(const CLI::App* app, std::string) const override {
    return "Usage: " + usage_ + "\n" + app->get_description() + "\n";
  }
  std::string make_option_name(const CLI::Option* opt, bool positional) const override {
    if (positional) return opt->get_name(true, false);
    std::string names = opt->get_name(false, true);
    for (size_t comma = names.find(','); comma != std::string::npos; comma = names.find(',', comma + 2))
      names.insert(comma + 1, " ");
    return names.starts_with("--") ? "    " + names : names;
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (!opt->nonpositional() || opt->get_type_size() == 0 || opt->get_type_name().empty()) return {};
    return " " + opt->get_type_name();
  }
  // Wrapped to fit 80 columns next to the names (CLI11 indents each line).
  std::string make_option_desc(const CLI::Option* opt) const override {
    const size_t width = 79 - get_column_width();
    std::string out, line;
    std::istringstream words(opt->get_description());
    for (std::string word; words >> word;) {
      if (!line.empty() && line.size() + 1 + word.size() > width) {
        out += line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
    }
    return out + line;
  }

 private:
  std::string usage_;
};

// The long name CLI11 reports for an option ("--coord-port"), or the name as
// the user typed it without dashes ("join", "j") in a flag-override error.
std::string dashed(const std::string& name) {
  if (name.starts_with("-")) return name;
  return (name.size() == 1 ? "-" : "--") + name;
}

// CLI11's wording of a value problem, in ours.
std::string translate(const CLI::ArgumentMismatch& e) {
  const std::string what = e.what();
  if (what.ends_with(" missing")) {
    if (size_t colon = what.find(": "); colon != std::string::npos) return what.substr(0, colon) + " needs a value";
  }
  static const std::string kOverride = " was given a disallowed flag override";
  if (what.ends_with(kOverride)) return dashed(what.substr(0, what.size() - kOverride.size())) + " takes no value";
  return what;
}

std::string unknown(const std::string& arg) {
  if (arg.size() > 1 && arg[0] == '-') return "unknown option " + quoted(arg.substr(0, arg.find('='))) + " (try --help)";
  return "unexpected argument " + quoted(arg) + " (try --help)";
}

}  // namespace

std::string private_dir(std::string& error) {
  const char* tmp = std::getenv("TMPDIR");
  char dir[4200];
  std::snprintf(dir, sizeof dir, CKPT_PRIVATE_DIR_FORMAT, tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                static_cast<unsigned>(::getuid()));
  ::mkdir(dir, 0700);
  struct stat st {};
  if (::lstat(dir, &st) != 0) {
    error = std::string(dir) + ": " + std::strerror(errno);
    return "";
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 022) != 0) {
    error = std::string(dir) + ": not a directory of uid " + std::to_string(::getuid()) +
            " that only it can write (made by someone else?)";
    return "";
  }
  return dir;
}

int open_log(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    error = path + ": " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode) || st.st_uid != ::getuid()) {
    error = path + ": not a regular file of uid " + std::to_string(::getuid());
  } else {
    return fd;
  }
  if (fd >= 0) ::close(fd);
  return -1;
}

std::string secret_file_path(const std::string& given, uint16_t port, std::string& error) {
  if (!given.empty()) {
    std::error_code ec;
    const auto path = std::filesystem::absolute(given, ec);
    if (ec) {
      error = given + ": " + ec.message();
      return "";
    }
    return path.string();
  }
  const std::string dir = private_dir(error);
  if (dir.empty()) return "";
  return dir + "/coordinator-" + std::to_string(port) + ".secret";
}

EnvLookup process_environment() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

std::string printable(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

std::string error_line(std::string_view tool, std::string_view message) {
  return std::string(tool) + ": " + printable(std::string(message));
}

void fail(std::string_view tool, std::string_view message, int status) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", error_line(tool, message).c_str());
  std::exit(status);
}

std::string version_line(std::string_view tool) { return std::string(tool) + " " + CKPT_VERSION; }

std::string exit_status_help(std::string_view failed, bool coordinator, std::string_view extra) {
  std::string text = "Exit status:\n  0    success\n  1    " + std::string(failed) +
                     "\n  2    usage error (bad option, bad value or bad environment variable)\n";
  if (coordinator) text += "  3    no coordinator reachable\n";
  return text + std::string(extra);
}

unsigned long long to_number(const Setting& s, unsigned long long max) {
  const std::string& v = s.value;
  unsigned long long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec == std::errc::invalid_argument || end != v.data() + v.size())
    throw UsageError(s.source + ": " + quoted(v) + " is not a number");
  if (ec == std::errc::result_out_of_range || n > max)
    throw UsageError(s.source + ": " + quoted(v) + " is out of range (at most " + std::to_string(max) + ")");
  return n;
}

uint16_t to_port(const Setting& s, bool zero_ok) {
  const std::string& v = s.value;
  unsigned long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n > 65535 || (n == 0 && !zero_ok))
    throw UsageError(s.source + ": " + quoted(v) + " is not a port number (1-65535)");
  return static_cast<uint16_t>(n);
}

bool to_bool(const Setting& s) {
  const std::string& v = s.value;
  if (v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no") return false;
  throw UsageError(s.source + ": " + quoted(v) + " is not a boolean (use 1 or 0)");
}

const std::string& to_choice(const Setting& s, std::initializer_list<const char*> choices) {
  std::string list;
  for (const char* c : choices) {
    if (s.value == c) return s.value;
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  throw UsageError(s.source + ": " + quoted(s.value) + " is not one of " + list);
}

const std::string& to_nonempty(const Setting& s) {
  if (s.value.empty()) throw UsageError(s.source + ": empty value");
  return s.value;
}

Parser::Parser(std::string tool, std::string usage, std::string about, EnvLookup env)
    : tool_(std::move(tool)), env_(std::move(env)), app_(std::make_unique<CLI::App>(std::move(about), tool_)) {
  app_->formatter(std::make_shared<HelpFormatter>(std::move(usage)));
  app_->set_help_flag("--help", "show this help and exit");
  app_->set_version_flag("--version", version_line(tool_), "show the version and exit");
  // Unknown options and stray arguments are reported in our words.
  app_->allow_extras();
  exit_statuses("the action failed", false);
}

Parser::~Parser() = default;

CLI::Option* Parser::value(const std::string& names, const std::string& type, const std::string& help,
                           const std::string& env) {
  CLI::Option* opt = app_->add_option(names, env.empty() ? help : help + " (env " + env + ")");
  opt->type_name(type)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  if (!env.empty()) twins_.emplace_back(opt->get_name(), env);
  return opt;
}

CLI::Option* Parser::values(const std::string& names, const std::string& type, const std::string& help) {
  CLI::Option* opt = app_->add_option(names, help);
  // One value per occurrence ("--file-policy A PROG" leaves PROG alone),
  // and every occurrence counts.
  opt->type_name(type)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  return opt;
}

CLI::Option* Parser::flag(const std::string& names, const std::string& help, const std::string& env) {
  CLI::Option* opt = app_->add_flag(names, env.empty() ? help : help + " (env " + env + "=1)");
  opt->disable_flag_override();
  if (!env.empty()) twins_.emplace_back(opt->get_name(), env);
  return opt;
}

void Parser::operands(const std::string& type, const std::string& help) {
  app_->add_option(type, operands_, help);
}

void Parser::stop_at_program() { app_->prefix_command(); stop_at_program_ = true; }

void Parser::alias(std::string from, std::string to) { aliases_.emplace_back(std::move(from), std::move(to)); }

void Parser::notes(std::string text) {
  notes_ = std::move(text);
  app_->footer(notes_ + (notes_.empty() ? "" : "\n") + exit_statuses_);
}

void Parser::exit_statuses(std::string failed, bool coordinator, std::string extra) {
  exit_statuses_ = exit_status_help(failed, coordinator, extra);
  app_->footer(notes_ + (notes_.empty() ? "" : "\n") + exit_statuses_);
}

// -h is --help wherever it means nothing else (ckpt_launch's -h is DMTCP's
// --coord-host).
void Parser::finish() {
  if (finished_) return;
  finished_ = true;
  if (app_->get_option_no_throw("-h") == nullptr) app_->set_help_flag("-h,--help", "show this help and exit");
}

std::string Parser::help() {
  finish();
  return app_->help();
}

Outcome Parser::parse(int argc, const char* const* argv) {
  finish();
  std::vector<std::string> args(argv + 1, argv + argc);
  // DMTCP's spellings, up to "--" (never in a program's arguments).
  if (!stop_at_program_) {
    for (std::string& arg : args) {
      if (arg == "--") break;
      for (const auto& [from, to] : aliases_)
        if (arg == from) arg = to;
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app_->parse(args);
  } catch (const CLI::CallForHelp&) {
    return Outcome::Help;
  } catch (const CLI::CallForVersion&) {
    return Outcome::Version;
  } catch (const CLI::ArgumentMismatch& e) {
    throw UsageError(translate(e));
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }

  std::vector<std::string> extra = app_->remaining();
  if (stop_at_program_) {
    if (!extra.empty() && extra.front() == "--") {
      extra.erase(extra.begin());
    } else if (!extra.empty() && extra.front().size() > 1 && extra.front()[0] == '-') {
      throw UsageError(unknown(extra.front()));
    }
    rest_ = std::move(extra);
    return Outcome::Run;
  }
  std::erase(extra, "--");
  if (!extra.empty()) throw UsageError(unknown(extra.front()));
  rest_ = operands_;
  return Outcome::Run;
}

Outcome Parser::run(int argc, const char* const* argv, const std::function<void()>& read, std::string& error) {
  try {
    const Outcome outcome = parse(argc, argv);
    if (outcome == Outcome::Run) read();
    return outcome;
  } catch (const UsageError& e) {
    error = error_line(tool_, e.what());
    return Outcome::Error;
  }
}

CLI::Option* Parser::find(const std::string& name) const {
  CLI::Option* opt = app_->get_option_no_throw(name);
  if (opt == nullptr) throw std::logic_error(tool_ + ": no option " + name);
  return opt;
}

const std::string* Parser::env_name(const std::string& name) const {
  for (const auto& [option, env] : twins_)
    if (option == name) return &env;
  return nullptr;
}

bool Parser::given(const std::string& name) const { return find(name)->count() > 0; }

std::optional<Setting> Parser::variable(const std::string& name) const {
  const char* v = env_ ? env_(name.c_str()) : nullptr;
  // An empty variable counts as unset, as for every CKPT_* consumer.
  if (v == nullptr || *v == '\0') return std::nullopt;
  return Setting{v, name};
}

std::optional<Setting> Parser::setting(const std::string& name) const {
  const CLI::Option* opt = find(name);
  if (opt->count() > 0 && !opt->results().empty()) return Setting{opt->results().back(), opt->get_name()};
  if (const std::string* env = env_name(opt->get_name())) return variable(*env);
  return std::nullopt;
}

std::optional<bool> Parser::enabled(const std::string& name, std::string* source) const {
  const CLI::Option* opt = find(name);
  if (opt->count() > 0) {
    if (source != nullptr) *source = opt->get_name();
    return true;
  }
  const std::string* env = env_name(opt->get_name());
  std::optional<Setting> s = env != nullptr ? variable(*env) : std::nullopt;
  if (!s) return std::nullopt;
  if (source != nullptr) *source = s->source;
  return to_bool(*s);
}

std::vector<Setting> Parser::in_order(const std::vector<std::string>& names) const {
  std::vector<std::pair<const CLI::Option*, size_t>> seen;
  for (const std::string& name : names) seen.emplace_back(find(name), 0);
  std::vector<Setting> out;
  for (const CLI::Option* opt : app_->parse_order()) {
    for (auto& [option, next] : seen) {
      if (option != opt || next >= opt->results().size()) continue;
      out.push_back(Setting{opt->results()[next++], opt->get_name()});
    }
  }
  return out;
}

void add_coordinator_address(Parser& p, bool port_zero) {
  p.value("-h,--coord-host", "HOST", "coordinator host [localhost]", CKPT_ENV_COORD_HOST);
  p.value("-p,--coord-port", "PORT",
          "coordinator port [" + std::to_string(proto::kDefaultPort) + "]" +
              (port_zero ? "; 0 with --new-coordinator: any free port" : ""),
          CKPT_ENV_COORD_PORT);
  add_secret_file(p);
}

void add_secret_file(Parser& p) {
  p.value("--secret-file", "FILE",
          "the computation's secret, which every connection to the coordinator proves it knows "
          "[${TMPDIR:-/tmp}/ckpt-UID/coordinator-PORT.secret]",
          CKPT_ENV_SECRET_FILE);
}

std::optional<std::string> secret_file(const Parser& p) {
  auto s = p.setting("--secret-file");
  if (!s) return std::nullopt;
  return to_nonempty(*s);
}

void add_coordinator_mode(Parser& p) {
  p.flag("-j,--join,--join-coordinator", "require a running coordinator", "CKPT_JOIN");
  p.flag("--new-coordinator", "always start a fresh coordinator (excludes --join)", "CKPT_NEW_COORDINATOR");
}

void add_interval(Parser& p, const std::string& help, const std::string& env) {
  p.value("-i,--interval", "N", help, env);
}

void add_ckptdir(Parser& p, const std::string& help, const std::string& env) {
  p.value("--ckptdir", "DIR", help, env);
}

void add_keep(Parser& p) {
  p.value("--keep", "N",
          "keep the newest N committed checkpoint generations, removing older ones [" +
              std::to_string(proto::kDefaultKeep) + "]",
          "CKPT_KEEP");
}

void add_host_name(Parser& p) {
  p.value("--host-name", "NAME",
          "the name of the host the processes run on, in their images and the restart script "
          "[the kernel's host name]",
          CKPT_ENV_HOST_NAME);
}

void add_rsh(Parser& p, const std::string& help) { p.value("--rsh", "CMD", help, CKPT_ENV_RSH); }

CoordinatorMode coordinator_mode(const Parser& p) {
  CoordinatorMode mode;
  std::string join_source = "--join", new_source = "--new-coordinator";
  if (p.given("--join") || p.given("--new-coordinator")) {
    mode.join = p.given("--join");
    mode.new_coordinator = p.given("--new-coordinator");
  } else {
    mode.join = p.enabled("--join", &join_source).value_or(false);
    mode.new_coordinator = p.enabled("--new-coordinator", &new_source).value_or(false);
  }
  if (mode.join && mode.new_coordinator) throw UsageError(join_source + " and " + new_source + " exclude each other");
  return mode;
}

CoordinatorAddress coordinator_address(const Parser& p, const CoordinatorMode* mode) {
  CoordinatorAddress address{"localhost", proto::kDefaultPort, {}};
  if (auto host = p.setting("--coord-host")) address.host = to_nonempty(*host);
  if (auto file = secret_file(p)) address.secret_file = *file;
  if (auto port = p.setting("--coord-port")) {
    address.port = to_port(*port, mode != nullptr);
    // Port 0 asks a new coordinator to pick a free port; joining, or using
    // whichever coordinator is there, needs a definite address.
    if (address.port == 0 && !mode->new_coordinator)
      throw UsageError(port->source + ": port 0 (any free port) needs --new-coordinator");
  }
  return address;
}

std::optional<unsigned> interval(const Parser& p) {
  auto s = p.setting("--interval");
  if (!s) return std::nullopt;
  return static_cast<unsigned>(to_number(*s, kMaxInterval));
}

std::optional<std::string> ckptdir(const Parser& p) {
  auto s = p.setting("--ckptdir");
  if (!s) return std::nullopt;
  return to_nonempty(*s);
}

std::optional<unsigned> keep(const Parser& p) {
  auto s = p.setting("--keep");
  if (!s) return std::nullopt;
  const auto n = static_cast<unsigned>(to_number(*s, proto::kMaxKeep));
  if (n == 0) throw UsageError(s->source + ": must be at least 1 (the generation in use)");
  return n;
}

std::string check_host_name(const std::string& name, const std::string& source) {
  if (name.empty()) throw UsageError(source + ": empty host name");
  if (name.size() > kMaxHostName)
    throw UsageError(source + ": '" + printable(name) + "' is longer than " + std::to_string(kMaxHostName) + " bytes");
  for (unsigned char c : name)
    if (c <= ' ' || c >= 0x7f || c == '/' || c == ':' || c == '\'' || c == '"' || c == '\\')
      throw UsageError(source + ": '" + printable(name) + "' is not a host name (no spaces, quotes, '/' or ':')");
  return name;
}

std::optional<std::string> host_name(const Parser& p) {
  auto s = p.setting("--host-name");
  if (!s) return std::nullopt;
  return check_host_name(s->value, s->source);
}

std::optional<std::string> rsh(const Parser& p) {
  auto s = p.setting("--rsh");
  if (!s) return std::nullopt;
  if (s->value.find_first_not_of(" \t") == std::string::npos) throw UsageError(s->source + ": empty value");
  return s->value;
}

}  // namespace ckpt::cli
