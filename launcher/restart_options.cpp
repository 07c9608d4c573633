#include "restart_options.h"

#include "ckpt/restart_paths.h"

#include <charconv>
#include <cstring>

namespace ckpt {
namespace {

bool parse_port(const std::string& text, uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

bool env_flag(const RestartEnvLookup& env, const char* name) {
  const char* v = env(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace

RestartParse parse_restart_options(int argc, const char* const* argv, const RestartEnvLookup& env) {
  RestartParse r;
  RestartOptions& o = r.options;
  auto fail = [&](const std::string& msg) {
    r.action = RestartParse::Error;
    r.error = "ckpt_restart: " + msg;
    return r;
  };
  if (const char* h = env("CKPT_COORD_HOST"); h && *h) o.coord_host = h;
  if (const char* p = env("CKPT_COORD_PORT"); p && *p && !parse_port(p, o.coord_port))
    return fail(std::string("CKPT_COORD_PORT: '") + p + "' is not a port number");
  o.join = env_flag(env, "CKPT_JOIN");
  o.new_coordinator = env_flag(env, "CKPT_NEW_COORDINATOR");
  if (const char* d = env("CKPT_RESTART_DIR"); d && *d) o.ckptdir = d;

  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg.empty() || arg[0] != '-') {
      o.images.push_back(arg);
      continue;
    }
    std::string name = arg, value;
    bool has_inline_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_inline_value = true;
    }
    auto take_value = [&]() -> bool {
      if (has_inline_value) return true;
      if (i + 1 >= argc) return false;
      value = argv[++i];
      return true;
    };
    if (name == "--") options_done = true;
    else if (name == "--help" || name == "-h") r.action = RestartParse::Help;
    else if (name == "--coord-host") {
      if (!take_value() || value.empty()) return fail("--coord-host needs a host name");
      o.coord_host = value;
    } else if (name == "--coord-port") {
      if (!take_value() || !parse_port(value, o.coord_port))
        return fail("--coord-port: '" + value + "' is not a port number");
    } else if (name == "--ckptdir") {
      if (!take_value() || value.empty()) return fail("--ckptdir needs a directory");
      o.ckptdir = value;
    } else if (name == "--relocate") {
      if (!take_value()) return fail("--relocate needs OLD=NEW");
      std::string from, to, why;
      if (!parse_relocation(value, from, to, why)) return fail("--relocate: " + why);
      o.relocations.emplace_back(from, to);
    } else if (name == "--run-on-fail") {
      if (!take_value() || value.empty()) return fail("--run-on-fail needs a command");
      o.run_on_fail = value;
    } else if (name == "--join") o.join = true;
    else if (name == "--new-coordinator") o.new_coordinator = true;
    else if (name == "--no-restore-pids") o.restore_pids = false;
    else if (name == "--no-verify") o.verify = false;
    else if (name == "--info") o.info = true;
    else if (name == "--json") o.json = true;
    else return fail("unknown option '" + arg + "' (see --help)");
  }
  if (r.action == RestartParse::Help) return r;
  if (o.join && o.new_coordinator) return fail("--join and --new-coordinator exclude each other");
  if (o.images.empty()) return fail("no image given (usage: ckpt_restart [options] IMAGE...)");
  return r;
}

std::string restart_usage() {
  return R"(usage: ckpt_restart [options] IMAGE...
Restores a computation from its checkpoint images (one per process, all of
one checkpoint) as the process tree it was, and lets it run on. The root
process's exit status is ckpt_restart's. ckpt_restart_script.sh, written
next to the images at each checkpoint, runs this for you.

  --coord-host H       coordinator to join (env CKPT_COORD_HOST, default localhost)
  --coord-port P       its port (env CKPT_COORD_PORT, default 7779)
  --join               require a running coordinator (env CKPT_JOIN=1)
  --new-coordinator    start a fresh coordinator (env CKPT_NEW_COORDINATOR=1)
  --ckptdir D          write later checkpoints to D (env CKPT_RESTART_DIR)
  --no-restore-pids    do not try to get the original pids back
  --no-verify          skip the data checksums (faster; headers are still checked)
  --relocate OLD=NEW   reopen files, working directories and file mappings under
                       OLD from NEW instead (whole path components; repeatable,
                       the longest OLD wins)
  --run-on-fail CMD    run CMD with /bin/sh if the restart fails before the
                       computation runs (a file that vanished, a bad image);
                       CKPT_RESTART_ERROR holds the reason
  --info [--json]      print the images instead of restoring
  --help               this text
)";
}

}  // namespace ckpt
