// The one command-line layer of the five tools (ckpt_launch, ckpt_restart,
// ckpt_info, ckpt_coordinator, ckpt_command).
//
// CLI11 reads the command line and writes --help; this layer adds what every
// tool must do the same way:
//  - one error shape: a single line "TOOL: MESSAGE" on stderr, and one
//    wording for the same mistake in every tool ("unknown option '--frob'
//    (try --help)", "--coord-port: 'abc' is not a port number (1-65535)");
//  - environment twins: an option given on the command line overrides its
//    CKPT_* variable, and a bad variable is named in the message exactly as
//    a bad option is;
//  - --help and --version everywhere, and the documented exit statuses;
//  - DMTCP's spellings that CLI11 cannot parse itself (`-bc`), rewritten
//    before parsing;
//  - the options several tools share (coordinator address and mode,
//    interval, checkpoint directory), defined once.
//
// Parsing is pure: the environment comes in through a lookup function, so
// every rule is unit-tested.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace ckpt::cli {

// Exit statuses shared by the tools (README, "Exit statuses").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;         // the action failed: checkpoint, image, restart ...
inline constexpr int kExitUsage = 2;          // bad option, bad value, bad environment value
inline constexpr int kExitNoCoordinator = 3;  // no coordinator reachable

// Longest checkpoint interval any tool accepts, in seconds (over three years).
inline constexpr unsigned long long kMaxInterval = 100000000;

using EnvLookup = std::function<const char*(const char* name)>;
// getenv.
EnvLookup process_environment();

// A usage error; what() is the message without the "TOOL: " prefix.
struct UsageError : std::runtime_error {
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

// `s` with control characters replaced by '?': text from outside (an
// argument, a peer's program name) shown in an error or log line cannot
// break the line or forge another, nor move the terminal of whoever reads it.
std::string printable(std::string s);

// "TOOL: MESSAGE", the one shape of every error line: one line, whatever
// the message quotes (printable()).
std::string error_line(std::string_view tool, std::string_view message);
// Prints error_line() and a newline on stderr, then exits with `status`.
[[noreturn]] void fail(std::string_view tool, std::string_view message, int status);

// "TOOL VERSION", the --version text (the project version from CMake).
std::string version_line(std::string_view tool);

// This user's private directory (CKPT_PRIVATE_DIR_FORMAT), made if missing;
// empty with `error` set if it is not a directory of this user's that only
// they can write.
std::string private_dir(std::string& error);
// Opens `path` for appending (a log) without following a symbolic link at
// its end, as a regular file of this user's; -1 with `error` set otherwise.
int open_log(const std::string& path, std::string& error);

// Where the secret of the coordinator at `port` lives (ckpt/auth.h): `given`
// (--secret-file) made absolute, else <private_dir>/coordinator-PORT.secret.
// Empty with `error` set when the private directory is unusable.
std::string secret_file_path(const std::string& given, uint16_t port, std::string& error);

// The exit-status paragraph every --help ends with: 0, then `failed` (what
// status 1 means for this tool), 2, then 3 if the tool talks to a
// coordinator, then `extra` (whole lines, each ending in '\n').
std::string exit_status_help(std::string_view failed, bool coordinator, std::string_view extra = {});

// One value as the user gave it: `source` is the option ("--coord-port") or
// the environment variable ("CKPT_COORD_PORT"), for messages.
struct Setting {
  std::string value;
  std::string source;
};

// The one wording of bad values; each throws UsageError.
// "SOURCE: 'abc' is not a number", "SOURCE: '9' is out of range (at most 5)"
unsigned long long to_number(const Setting& s, unsigned long long max);
// 0-65535; "SOURCE: 'abc' is not a port number (1-65535)", also for 0
// unless `zero_ok`.
uint16_t to_port(const Setting& s, bool zero_ok);
// 1/0, true/false, yes/no; "SOURCE: 'maybe' is not a boolean (use 1 or 0)"
bool to_bool(const Setting& s);
// "SOURCE: empty value"
const std::string& to_nonempty(const Setting& s);
// One of `choices`; "SOURCE: 'x' is not one of close, fail"
const std::string& to_choice(const Setting& s, std::initializer_list<const char*> choices);

// What the user asked for: run, print --help or --version, or nothing
// (a usage error, exit status kExitUsage).
enum class Outcome { Run, Help, Version, Error };

// One tool's command line: a CLI11 app plus the rules above.
class Parser {
 public:
  // `usage` is the synopsis ("ckpt_info [OPTION]... IMAGE..."), `about` one
  // or two sentences under it.
  Parser(std::string tool, std::string usage, std::string about, EnvLookup env);
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  const std::string& tool() const { return tool_; }

  // An option with one value (given twice: the last one counts). `names` as
  // CLI11 spells them ("-p,--coord-port"), `type` the value's name in --help
  // ("PORT"), `env` the environment twin or empty.
  CLI::Option* value(const std::string& names, const std::string& type, const std::string& help,
                     const std::string& env = {});
  // A repeatable option; every value is kept, in order.
  CLI::Option* values(const std::string& names, const std::string& type, const std::string& help);
  // An option without a value; its twin is a boolean variable (1 or 0).
  CLI::Option* flag(const std::string& names, const std::string& help, const std::string& env = {});
  // Arguments that are not options (IMAGE...).
  void operands(const std::string& type, const std::string& help);
  // Options end at the first operand: it and everything after it, options
  // included, are the program and its arguments (ckpt_launch PROG ARG...).
  void stop_at_program();
  // Spelling `from` (a whole argument, e.g. DMTCP's "-bc") means `to`.
  void alias(std::string from, std::string to);
  // Text printed after the options in --help, before the exit statuses.
  void notes(std::string text);
  // The exit statuses in --help (see exit_status_help).
  void exit_statuses(std::string failed, bool coordinator, std::string extra = {});

  // Parses argv (argv[0] is the tool): Run, Help or Version. Throws
  // UsageError.
  Outcome parse(int argc, const char* const* argv);
  // parse(), then for Run `read` (which takes the options from this parser
  // and may throw UsageError too); a usage error is Error with its line
  // ("TOOL: MESSAGE") in `error`.
  Outcome run(int argc, const char* const* argv, const std::function<void()>& read, std::string& error);
  std::string help();

  // After parse(). Options are named by their long name ("--coord-port").
  // The value given last on the command line, else the environment twin
  // (set and not empty), else nothing.
  std::optional<Setting> setting(const std::string& name) const;
  // A flag: true if given on the command line, else its twin read as a
  // boolean (UsageError if it is not one), else nothing. `source` (may be
  // null) receives where it came from.
  std::optional<bool> enabled(const std::string& name, std::string* source = nullptr) const;
  // An environment variable that is no option's twin, if set and not empty.
  std::optional<Setting> variable(const std::string& name) const;
  // Whether the option appeared on the command line.
  bool given(const std::string& name) const;
  // Every value of the options `names` on the command line, in the order
  // given (interleaved across the options).
  std::vector<Setting> in_order(const std::vector<std::string>& names) const;
  // The operands, or the program and its arguments (stop_at_program).
  const std::vector<std::string>& rest() const { return rest_; }

 private:
  CLI::Option* find(const std::string& name) const;
  const std::string* env_name(const std::string& name) const;
  void finish();

  std::string tool_;
  EnvLookup env_;
  std::unique_ptr<CLI::App> app_;
  std::vector<std::pair<std::string, std::string>> twins_;    // long name -> variable
  std::vector<std::pair<std::string, std::string>> aliases_;  // spelling -> ours
  std::vector<std::string> operands_;
  bool stop_at_program_ = false;
  bool finished_ = false;
  std::string notes_;
  std::string exit_statuses_;
  std::vector<std::string> rest_;
};

// ---- Options several tools share, defined once ----

// -h/--coord-host (CKPT_COORD_HOST), -p/--coord-port (CKPT_COORD_PORT) and
// --secret-file (CKPT_SECRET_FILE). `port_zero` documents port 0 (with
// --new-coordinator: any free port).
void add_coordinator_address(Parser& p, bool port_zero);
// --secret-file FILE (CKPT_SECRET_FILE), for ckpt_coordinator itself.
void add_secret_file(Parser& p);
// The secret file given by --secret-file or its twin, if any.
std::optional<std::string> secret_file(const Parser& p);
// -j/--join (CKPT_JOIN) and --new-coordinator (CKPT_NEW_COORDINATOR).
void add_coordinator_mode(Parser& p);
// -i/--interval N with the twin `env` (empty: none).
void add_interval(Parser& p, const std::string& help, const std::string& env);
// --ckptdir D with the twin `env` (empty: none).
void add_ckptdir(Parser& p, const std::string& help, const std::string& env);
// --keep N (CKPT_KEEP): how many committed generations a coordinator keeps.
void add_keep(Parser& p);
// --host-name NAME (CKPT_HOST_NAME): the host the processes run on, as the
// computation names it (default: the kernel's node name).
void add_host_name(Parser& p);
// --rsh CMD (CKPT_RSH): the remote shell, a program and fixed leading
// arguments ("ssh", "ip netns exec").
void add_rsh(Parser& p, const std::string& help);

struct CoordinatorMode {
  bool join = false;             // require a running coordinator
  bool new_coordinator = false;  // always start a fresh one
};
// The mode from --join/--new-coordinator and their twins: a mode option on
// the command line overrides both variables, and the two conflict only when
// given by the same source.
CoordinatorMode coordinator_mode(const Parser& p);

struct CoordinatorAddress {
  std::string host;
  uint16_t port = 0;
  std::string secret_file;  // --secret-file; empty: the default for the port (secret_file_path)
};
// Host and port with their defaults (localhost, proto::kDefaultPort). Port 0
// is allowed with `mode` and mode->new_coordinator; without a mode (a tool
// that never starts a coordinator) it is not a port.
CoordinatorAddress coordinator_address(const Parser& p, const CoordinatorMode* mode);
// The interval, if given (at most kMaxInterval).
std::optional<unsigned> interval(const Parser& p);
// The checkpoint directory, if given (not empty).
std::optional<std::string> ckptdir(const Parser& p);
// --keep, if given (1 to proto::kMaxKeep).
std::optional<unsigned> keep(const Parser& p);
// The largest host name (the image and protocol fields hold 63 bytes).
inline constexpr size_t kMaxHostName = 63;
// A host name, if given: 1 to kMaxHostName printable bytes, no space, '/' or ':'.
std::optional<std::string> host_name(const Parser& p);
// Checks one host name; `source` names where it came from in the message.
std::string check_host_name(const std::string& name, const std::string& source);
// The remote shell, if given (not empty).
std::optional<std::string> rsh(const Parser& p);

}  // namespace ckpt::cli
