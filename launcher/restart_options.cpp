#include "restart_options.h"

#include <algorithm>
#include <fstream>

#include "ckpt/environment.h"
#include "ckpt/restart_paths.h"
#include "path_map_option.h"

namespace ckpt {
namespace {

// --path-map's twin (ckpt_launch's is CKPT_PATH_MAP itself).
constexpr char kPathMapVar[] = "CKPT_RESTART_PATH_MAP";

// ckpt_restart's command line.
struct RestartCli : cli::Parser {
  explicit RestartCli(const RestartEnvLookup& env)
      : Parser("ckpt_restart", "ckpt_restart [OPTION]... IMAGE...",
               "Restore a computation from its checkpoint images (one per process, all of one\n"
               "checkpoint) as the process tree it was, and let it run on. The root process's\n"
               "exit status is ckpt_restart's. ckpt_restart_script.sh, written next to the\n"
               "images at each checkpoint, runs this for you.",
               env) {
    define(*this);
  }
  static void define(cli::Parser& p);
};

void RestartCli::define(cli::Parser& p) {
  cli::add_coordinator_address(p, true);
  cli::add_coordinator_mode(p);
  cli::add_ckptdir(p, "write later checkpoints to DIR [as saved]", "CKPT_RESTART_DIR");
  cli::add_keep(p);
  p.value("--tmpdir", "DIR",
          "the restored processes keep their temporary files in DIR (created if missing; dmtcp_get_tmpdir, their "
          "logs' default directory, CKPT_TMPDIR of the programs they run) [as saved]",
          "CKPT_RESTART_TMPDIR");
  p.value("--env-file", "FILE",
          "change each restored process's environment before it runs again: one NAME=value (set) or NAME "
          "(remove) per line, # comments, \"...\" quotes, $NAME the current value");
  p.flag("--modify-env",
         "as --env-file with the file " CKPT_MODIFY_ENV_FILE " in each image's directory, where there is one "
         "(DMTCP's modify-env)");
  p.flag("--no-restore-pids", "do not try to get the original pids back");
  p.flag("--no-verify", "skip the data checksums (faster; headers are still checked)");
  p.flag("--no-lazy",
         "read the images' memory before the processes run again; by default they run at once and "
         "their private memory comes in on first touch while a page server streams the rest (needs "
         "userfaultfd: root or vm.unprivileged_userfaultfd=1, else the restart is eager and says so)",
         "CKPT_RESTART_NO_LAZY");
  p.flag("--verify",
         "check the images and everything else a restart checks before it makes anything, then exit "
         "(0: the restart would start)");
  p.values("--relocate", "OLD=NEW",
           "reopen files, working directories and file mappings under OLD from NEW instead "
           "(whole path components; repeatable, the longest OLD wins)");
  add_path_map_option(p,
                      "the restored processes' new path map: files they name under VIRTUAL lie under REAL "
                      "from now on, and the files they had open, their working directories and mappings are "
                      "reopened there (repeatable; replaces the map they had; env " + std::string(kPathMapVar) +
                          ", one per line, or DMTCP's " CKPT_ENV_DMTCP_PATH_MAPPING "=VIRTUAL:REAL;...) [as saved]");
  p.value("--run-on-fail", "CMD",
          "run CMD with /bin/sh if the restart fails before the computation runs (a file that vanished, "
          "a bad image); CKPT_RESTART_ERROR holds the reason");
  p.values("--plugin", "LIB",
           "load a third-party restart side (ckpt/restart.h) from the shared library LIB (repeatable; "
           "also CKPT_RESTART_PLUGINS, colon-separated, loaded first)");
  cli::add_host_name(p);
  cli::add_rsh(p, "the remote shell that runs ckpt_restart on another host, as 'CMD HOST ckpt_restart ...' "
                  "[" CKPT_DEFAULT_RSH "]");
  p.values("--host", "OLD=NEW",
           "restart the processes checkpointed on host OLD on host NEW (repeatable); once a map is given, "
           "every host of the images must be in it");
  p.value("--hostfile", "FILE", "more of the map, one 'OLD NEW' or 'OLD=NEW' per line, # comments");
  p.flag("--host-share",
         "the images are one host's share of a computation on several hosts: the others are restarted by "
         "other ckpt_restarts joining the same coordinator, which waits for every process");
  p.flag("--info", "print the images instead of restoring them");
  p.flag("--json", "with --info: print JSON");
  p.operands("IMAGE", "checkpoint images, one per process; HOST:/PATH is the image PATH on HOST");
  p.exit_statuses("the restart failed before the computation ran (a bad image, a file that vanished ...)",
                  true, "Once the computation runs, the exit status is its root process's.\n");
}

// One OLD=NEW (or, from a file, "OLD NEW") of the host map.
void add_host_pair(const std::string& text, const std::string& source, RestartOptions& o) {
  size_t split = text.find('=');
  size_t rest = split + 1;
  if (split == std::string::npos) {
    split = text.find_first_of(" \t");
    rest = text.find_first_not_of(" \t", split);
  }
  if (split == std::string::npos || rest == std::string::npos)
    throw cli::UsageError(source + ": '" + cli::printable(text) + "' is not OLD=NEW");
  const std::string from = cli::check_host_name(text.substr(0, split), source);
  std::string to = text.substr(rest);
  while (!to.empty() && (to.back() == ' ' || to.back() == '\t' || to.back() == '\r')) to.pop_back();
  cli::check_host_name(to, source);
  for (const auto& [old, now] : o.host_map)
    if (old == from) throw cli::UsageError(source + ": host " + from + " is mapped twice");
  o.host_map.emplace_back(from, to);
}

void read_host_map(const cli::Parser& p, RestartOptions& o) {
  for (const cli::Setting& s : p.in_order({"--host"})) add_host_pair(s.value, s.source, o);
  if (auto file = p.setting("--hostfile")) {
    std::ifstream in(file->value);
    if (!in) throw cli::UsageError(file->source + ": cannot read '" + cli::printable(file->value) + "'");
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      const size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      add_host_pair(line.substr(start), file->value + ": line " + std::to_string(number), o);
    }
  }
  o.host_map_given = p.given("--host") || p.given("--hostfile");
}

void read_options(const cli::Parser& p, RestartOptions& o) {
  const cli::CoordinatorMode mode = cli::coordinator_mode(p);
  o.join = mode.join;
  o.new_coordinator = mode.new_coordinator;
  const cli::CoordinatorAddress address = cli::coordinator_address(p, &mode);
  o.coord_host = address.host;
  o.coord_port = address.port;
  o.secret_file = address.secret_file;
  if (auto dir = cli::ckptdir(p)) o.ckptdir = *dir;
  if (auto keep = cli::keep(p)) o.keep = *keep;
  if (auto tmpdir = p.setting("--tmpdir")) o.tmpdir = cli::to_nonempty(*tmpdir);
  if (auto file = p.setting("--env-file")) o.env_file = cli::to_nonempty(*file);
  o.modify_env = p.given("--modify-env");
  if (!o.env_file.empty() && o.modify_env) throw cli::UsageError("--env-file and --modify-env exclude each other");
  o.restore_pids = !p.given("--no-restore-pids");
  o.check_data = !p.given("--no-verify");
  if (auto no_lazy = p.enabled("--no-lazy")) o.lazy = !*no_lazy;
  o.verify_only = p.given("--verify");
  for (const cli::Setting& s : p.in_order({"--relocate"})) {
    std::string from, to, why;
    if (!parse_relocation(s.value, from, to, why)) throw cli::UsageError(s.source + ": " + why);
    o.relocations.emplace_back(from, to);
  }
  o.path_map = path_map_option(p, kPathMapVar);
  if (auto cmd = p.setting("--run-on-fail")) o.run_on_fail = cli::to_nonempty(*cmd);
  if (auto list = p.variable("CKPT_RESTART_PLUGINS"))
    for (size_t at = 0; at <= list->value.size();) {
      size_t end = std::min(list->value.find(':', at), list->value.size());
      if (end > at) o.plugins.push_back(list->value.substr(at, end - at));
      at = end + 1;
    }
  for (const cli::Setting& s : p.in_order({"--plugin"})) o.plugins.push_back(s.value);
  o.info = p.given("--info");
  o.json = p.given("--json");
  if (auto name = cli::host_name(p)) o.host_name = *name;
  if (auto rsh = cli::rsh(p)) o.rsh = *rsh;
  read_host_map(p, o);
  o.host_share = p.given("--host-share");
  for (const std::string& operand : p.rest()) {
    // HOST:/PATH; a path of our own starts with '/' or has no ":/" before its first '/'.
    const size_t colon = operand.find(":/");
    if (operand[0] != '/' && colon != std::string::npos && colon > 0 && operand.find('/') == colon + 1) {
      o.image_hosts.push_back(cli::check_host_name(operand.substr(0, colon), "image " + operand));
      o.images.push_back(operand.substr(colon + 1));
    } else {
      o.image_hosts.emplace_back();
      o.images.push_back(operand);
    }
  }
  if (o.images.empty()) throw cli::UsageError("no image given (try --help)");
}

}  // namespace

RestartParse parse_restart_options(int argc, const char* const* argv, const RestartEnvLookup& env) {
  RestartParse r;
  RestartCli p(env);
  r.action = p.run(argc, argv, [&] { read_options(p, r.options); }, r.error);
  return r;
}

std::string restart_usage() { return RestartCli(nullptr).help(); }

}  // namespace ckpt
