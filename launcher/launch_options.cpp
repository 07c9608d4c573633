#include "launch_options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string_view>

#include "file_policy.h"
#include "path_map_option.h"
#include "ckpt/environment.h"

namespace ckpt {
namespace {

using cli::Setting;
using cli::UsageError;

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// A policy file may hold this much, comments included: far more than the
// plugin's table takes, and a bound for a file that never ends (/dev/zero).
constexpr size_t kMaxPolicyFile = 1 << 20;

// The whole of a small file; false with errno set (EFBIG past kMaxPolicyFile).
bool read_text_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxPolicyFile) {
      n = -1;
      errno = EFBIG;
      break;
    }
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return n == 0;
}

// Appends the rules of `text` (one per line, blank lines and # comments
// skipped) to `out`, checking each; `where` names the source in messages.
void add_policy_lines(const std::string& text, const std::string& where, std::string& out) {
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!fd::is_rule_line(line.data(), line.size())) continue;
    fd::Rule rule;
    fd::RuleError e = fd::parse_rule(line.data(), line.size(), &rule);
    if (e != fd::RuleError::None)
      throw UsageError(where + ": line " + std::to_string(number) + ": " + quoted(line) + ": " + fd::rule_error_text(e));
    out += line + "\n";
  }
}

// The CKPT_FILE_POLICY value for the rules given (--file-policy and
// --file-policy-file in command-line order, or the CKPT_FILE_POLICY value);
// the plugin's own table must be able to hold it all.
std::string encode_policies(const std::vector<Setting>& given) {
  std::string out;
  for (const Setting& s : given) {
    if (s.source == "--file-policy") {
      fd::Rule rule;
      fd::RuleError e = s.value.find('\n') != std::string::npos ? fd::RuleError::BadGlob
                                                                 : fd::parse_rule(s.value.data(), s.value.size(), &rule);
      if (e != fd::RuleError::None) throw UsageError(s.source + ": " + quoted(s.value) + ": " + fd::rule_error_text(e));
      out += s.value + "\n";
    } else if (s.source == "--file-policy-file") {
      std::string text;
      if (!read_text_file(s.value, text))
        throw UsageError(s.source + ": cannot read " + quoted(s.value) + ": " + std::strerror(errno));
      add_policy_lines(text, s.source + " " + s.value, out);
    } else {
      add_policy_lines(s.value, s.source, out);
    }
  }
  static fd::PolicyTable table;  // large: not on the stack
  size_t line;
  bool overflow;
  table.load(out.c_str(), &line, &overflow);
  if (overflow)
    throw UsageError("file policies: more than " + std::to_string(fd::PolicyTable::kMaxRules) + " rules or " +
                     std::to_string(fd::PolicyTable::kMaxText / 1024) + " KiB of globs");
  return out;
}

// ckpt_launch's command line.
struct LaunchCli : cli::Parser {
  explicit LaunchCli(const EnvLookup& env)
      : Parser("ckpt_launch", "ckpt_launch [OPTION]... PROG [ARG]...",
               "Run PROG with checkpointing enabled: libckpt.so is preloaded into it (and into\n"
               "every process it starts), and it connects to a ckpt_coordinator, which is\n"
               "started if none is running.",
               env) {
    define(*this);
  }
  static void define(cli::Parser& p);
};

void LaunchCli::define(cli::Parser& p) {
  cli::add_coordinator_address(p, true);
  cli::add_ckptdir(p, "directory for the images, created if missing [current directory]", CKPT_ENV_DIR);
  cli::add_interval(p, "checkpoint every N seconds; 0: only on request [0]", CKPT_ENV_INTERVAL);
  cli::add_keep(p);
  p.flag("--no-compress,--no-gzip", "write uncompressed images", "CKPT_NO_COMPRESS");
  p.value("--compress-threads", "N",
          "threads compressing each image while it is written; 0: one per CPU the process may run on, at most "
          "8; 1: none besides the writer [0]",
          CKPT_ENV_COMPRESS_THREADS);
  p.flag("--no-fsync",
         "leave images in the page cache, as DMTCP does: a checkpoint ends sooner, but is NOT durable (a crash "
         "of the machine can lose the new images and the ones they replaced)",
         "CKPT_NO_FSYNC");
  p.flag("--no-incremental",
         "write every image whole (no write tracking); by default an image after the first holds only the "
         "pages written since the previous one",
         "CKPT_NO_INCREMENTAL");
  p.value("--full-every", "N",
          "a full image once a chain of incremental images holds N images (1 to " +
              std::to_string(CKPT_MAX_FULL_EVERY) + "; 1: every image full) [" +
              std::to_string(CKPT_DEFAULT_FULL_EVERY) + "]",
          CKPT_ENV_FULL_EVERY);
  cli::add_coordinator_mode(p);
  p.values("--file-policy", "GLOB=POLICY",
           "what restart does with open files whose path matches GLOB (repeatable, the first match wins; "
           "env CKPT_FILE_POLICY, one rule per line) [merge]");
  p.values("--file-policy-file", "FILE", "more rules from FILE, one GLOB=POLICY per line, # comments");
  p.flag("--accept-loss",
         "a descriptor or memory that cannot be saved does not fail the checkpoint; it comes back as a "
         "placeholder (reads see end-of-file, writes fail with EPIPE)",
         CKPT_ENV_ACCEPT_LOSS);
  p.value("--outside-connections", "close|fail",
          "a connection to a peer outside the computation comes back closed after a restart, with a "
          "warning (close), or fails the checkpoint (fail) [close]",
          CKPT_ENV_OUTSIDE_CONNECTIONS);
  p.value("--tmpdir", "DIR",
          "where ckpt keeps the processes' temporary files (their logs unless CKPT_LOG_DIR says otherwise; "
          "dmtcp_get_tmpdir), created if missing [$TMPDIR, else /tmp]",
          CKPT_ENV_TMPDIR);
  p.flag("--modify-env",
         "every restart first applies the file " CKPT_MODIFY_ENV_FILE
         " in the image's directory, if there is one, to each restored process's environment "
         "(NAME=value or NAME per line; DMTCP's modify-env)",
         CKPT_ENV_MODIFY_ENV);
  p.values("--preload,--with-plugin", "LIB[:LIB]...",
           "also preload LIB into PROG and every process it starts, after libckpt.so (DMTCP plugins: "
           "DMTCP_DECL_PLUGIN)");
  add_path_map_option(p,
                      "PROG and every process it starts see the files under REAL at VIRTUAL: every path they "
                      "pass to the kernel under VIRTUAL goes there under REAL, and the paths the kernel gives "
                      "back (getcwd, readlink, realpath) come back under VIRTUAL (repeatable, the longest "
                      "VIRTUAL wins; env " CKPT_ENV_PATH_MAP ", one per line, or DMTCP's " CKPT_ENV_DMTCP_PATH_MAPPING
                      "=VIRTUAL:REAL;...)");
  cli::add_host_name(p);
  cli::add_rsh(p,
               "the remote shell: a command PROG's processes run as 'CMD HOST COMMAND...' starts COMMAND on "
               "HOST inside this computation; none: never [" CKPT_DEFAULT_RSH "]");
  p.stop_at_program();
  p.notes(R"(Each option has an environment twin; an option given on the command line
overrides its twin.

File policies: merge (reopen at the saved offset), ignore (reopen at offset
0), append (at the end), replace (write the checkpointed contents back),
substitute (a private copy of the checkpointed contents). In a GLOB, *
also matches '/', ? one character, [...] a set.

Without --join or --new-coordinator, ckpt_launch uses the coordinator at
host:port if one is running and otherwise starts one in the background,
without waiting for it (PROG starts at once and connects when it is ready).
PROG replaces ckpt_launch (same pid); everything after PROG is PROG's.

Several hosts: a process of the computation that runs 'RSH HOST COMMAND...'
(--rsh) starts COMMAND on HOST under 'ckpt_launch --join' with this
computation's coordinator, secret file and checkpoint directory, which must
be at the same paths there (so must ckpt); the coordinator must listen on an
address HOST reaches (ckpt_coordinator --listen, --coord-host ADDRESS).
)");
  p.exit_statuses("ckpt_launch could not set up PROG (libckpt.so missing, no coordinator started ...)", true,
                  "  127  PROG missing, not found or not executable\n"
                  "Once PROG runs, the exit status is PROG's own.\n");
}

void read_options(const cli::Parser& p, LaunchOptions& o) {
  const cli::CoordinatorMode mode = cli::coordinator_mode(p);
  o.join = mode.join;
  o.new_coordinator = mode.new_coordinator;
  const cli::CoordinatorAddress address = cli::coordinator_address(p, &mode);
  o.coord_host = address.host;
  o.coord_port = address.port;
  o.secret_file = address.secret_file;
  if (auto dir = cli::ckptdir(p)) o.ckptdir = *dir;
  if (auto interval = cli::interval(p)) o.interval = *interval;
  if (auto keep = cli::keep(p)) o.keep = *keep;
  if (auto no_compress = p.enabled("--no-compress")) o.compress = !*no_compress;
  if (auto no_fsync = p.enabled("--no-fsync")) o.fsync = !*no_fsync;
  if (auto threads = p.setting("--compress-threads"))
    o.compress_threads = static_cast<unsigned>(cli::to_number(*threads, CKPT_MAX_COMPRESS_THREADS));
  if (auto no_incremental = p.enabled("--no-incremental")) o.incremental = !*no_incremental;
  if (auto s = p.setting("--full-every")) {
    o.full_every = static_cast<unsigned>(cli::to_number(*s, CKPT_MAX_FULL_EVERY));
    if (o.full_every == 0) throw UsageError(s->source + ": must be at least 1");
  }
  std::vector<Setting> policies = p.in_order({"--file-policy", "--file-policy-file"});
  if (policies.empty())
    if (auto env = p.variable(CKPT_ENV_FILE_POLICY)) policies.push_back(*env);
  o.file_policy = encode_policies(policies);
  o.accept_loss = p.enabled("--accept-loss").value_or(false);
  if (auto outside = p.setting("--outside-connections"))
    o.fail_outside_connections = cli::to_choice(*outside, {"close", "fail"}) == "fail";
  if (auto name = cli::host_name(p)) o.host_name = *name;
  if (auto rsh = cli::rsh(p)) o.rsh = *rsh;
  if (auto tmpdir = p.setting("--tmpdir")) o.tmpdir = cli::to_nonempty(*tmpdir);
  o.modify_env = p.enabled("--modify-env").value_or(false);
  o.path_map = path_map_option(p, CKPT_ENV_PATH_MAP);
  for (const Setting& s : p.in_order({"--preload"})) {
    std::string_view libs = s.value;
    for (size_t colon; !libs.empty(); libs.remove_prefix(colon == std::string_view::npos ? libs.size() : colon + 1)) {
      colon = libs.find(':');
      const std::string lib(libs.substr(0, colon));
      if (lib.empty()) throw UsageError(s.source + ": " + quoted(s.value) + ": an empty library name");
      o.preload.push_back(lib);
    }
  }
}

}  // namespace

LaunchParse parse_launch_options(int argc, const char* const* argv, const EnvLookup& env) {
  LaunchParse result;
  LaunchCli p(env);
  result.action = p.run(argc, argv, [&] { read_options(p, result.options); }, result.error);
  if (result.action == LaunchAction::Run && p.rest().empty()) {
    result.action = LaunchAction::Error;
    result.error = cli::error_line(p.tool(), "missing program to run (try --help)");
    result.exit_code = kExitNotFound;
    return result;
  }
  result.exit_code = result.action == LaunchAction::Error ? cli::kExitUsage : cli::kExitOk;
  result.options.program = p.rest();
  return result;
}

std::string launch_usage() { return LaunchCli(nullptr).help(); }

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

std::string preload_without_libckpt(std::string_view preload) {
  std::string kept;
  while (!preload.empty()) {
    const size_t end = preload.find_first_of(": ");
    const std::string_view entry = preload.substr(0, end);
    const size_t slash = entry.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? entry : entry.substr(slash + 1);
    if (!entry.empty() && !base.starts_with("libckpt.so")) {
      if (!kept.empty()) kept += ':';
      kept += entry;
    }
    if (end == std::string_view::npos) break;
    preload.remove_prefix(end + 1);
  }
  return kept;
}

}  // namespace ckpt
