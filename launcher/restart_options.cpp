#include "restart_options.h"

#include <algorithm>

#include "ckpt/restart_paths.h"

namespace ckpt {
namespace {

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
  p.flag("--no-restore-pids", "do not try to get the original pids back");
  p.flag("--no-verify", "skip the data checksums (faster; headers are still checked)");
  p.flag("--verify",
         "check the images and everything else a restart checks before it makes anything, then exit "
         "(0: the restart would start)");
  p.values("--relocate", "OLD=NEW",
           "reopen files, working directories and file mappings under OLD from NEW instead "
           "(whole path components; repeatable, the longest OLD wins)");
  p.value("--run-on-fail", "CMD",
          "run CMD with /bin/sh if the restart fails before the computation runs (a file that vanished, "
          "a bad image); CKPT_RESTART_ERROR holds the reason");
  p.values("--plugin", "LIB",
           "load a third-party restart side (ckpt/restart.h) from the shared library LIB (repeatable; "
           "also CKPT_RESTART_PLUGINS, colon-separated, loaded first)");
  p.flag("--info", "print the images instead of restoring them");
  p.flag("--json", "with --info: print JSON");
  p.operands("IMAGE", "checkpoint images, one per process");
  p.exit_statuses("the restart failed before the computation ran (a bad image, a file that vanished ...)",
                  true, "Once the computation runs, the exit status is its root process's.\n");
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
  o.restore_pids = !p.given("--no-restore-pids");
  o.check_data = !p.given("--no-verify");
  o.verify_only = p.given("--verify");
  for (const cli::Setting& s : p.in_order({"--relocate"})) {
    std::string from, to, why;
    if (!parse_relocation(s.value, from, to, why)) throw cli::UsageError(s.source + ": " + why);
    o.relocations.emplace_back(from, to);
  }
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
  o.images = p.rest();
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
