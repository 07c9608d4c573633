// ckpt_launch [OPTION]... PROG [ARG]...
//
// Makes sure a coordinator is there, sets the environment libckpt.so reads,
// and execs PROG with libckpt.so preloaded. Exec rather than fork: PROG keeps
// ckpt_launch's pid and its exit status is the launch's, so ckpt_launch is
// invisible to whatever started it (shells, job schedulers, tests).
//
// Starting PROG must stay cheap (ckpt_launch /bin/true is a few ms): nothing
// here waits for a coordinator that is only being started in the background.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "coordinator_start.h"
#include "exec_target.h"
#include "install_paths.h"
#include "launch_options.h"
#include "ckpt/environment.h"

namespace {

constexpr const char* kTool = "ckpt_launch";

[[noreturn]] void fail(const std::string& message, int exit_code) { ckpt::cli::fail(kTool, message, exit_code); }

// The checkpoint directory as an absolute path without a trailing slash,
// created if missing. Images and the restart script go there, and processes
// may chdir later, so libckpt must get an absolute path.
// (--tmpdir likewise, `option` naming it in messages.)
std::string prepare_dir(const std::string& given, const char* option = "--ckptdir") {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = given.empty() ? fs::current_path(ec) : fs::absolute(given, ec);
  if (ec) fail(std::string(option) + ": cannot resolve '" + given + "': " + ec.message(), ckpt::cli::kExitFailed);
  dir = dir.lexically_normal();
  if (!dir.has_filename() && dir.has_relative_path()) dir = dir.parent_path();
  fs::create_directories(dir, ec);
  if (ec) fail(std::string(option) + ": cannot create '" + dir.string() + "': " + ec.message(), ckpt::cli::kExitFailed);
  return dir.string();
}

// LD_PRELOAD: libckpt.so, then --preload's libraries (absolute: processes
// may chdir and exec), then what the caller preloaded.
std::string preload_list(const std::string& libckpt, const std::vector<std::string>& extra) {
  std::string list = libckpt;
  for (const std::string& lib : extra) {
    std::error_code ec;
    const std::string path = std::filesystem::absolute(lib, ec).lexically_normal().string();
    if (ec || ::access(path.c_str(), R_OK) != 0)
      fail("--preload: " + lib + ": " + (ec ? ec.message() : std::strerror(errno)), ckpt::cli::kExitFailed);
    list += ":" + path;
  }
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload != nullptr && *preload != '\0') list += std::string(":") + preload;
  return list;
}

void set_env(const char* name, const std::string& value) {
  if (::setenv(name, value.c_str(), 1) != 0)
    fail(std::string("cannot set ") + name + ": " + std::strerror(errno), ckpt::cli::kExitFailed);
}

}  // namespace

int main(int argc, char** argv) {
  ckpt::LaunchParse parsed = ckpt::parse_launch_options(argc, argv, ckpt::cli::process_environment());
  switch (parsed.action) {
    case ckpt::LaunchAction::Help:
      std::fputs(ckpt::launch_usage().c_str(), stdout);
      return 0;
    case ckpt::LaunchAction::Version:
      std::printf("%s\n", ckpt::cli::version_line(kTool).c_str());
      return 0;
    case ckpt::LaunchAction::Error:
      std::fprintf(stderr, "%s\n", parsed.error.c_str());
      return parsed.exit_code;
    case ckpt::LaunchAction::Run:
      break;
  }
  const ckpt::LaunchOptions& opt = parsed.options;

  // Check everything that can fail before a coordinator gets started for a
  // program that cannot run anyway.
  std::string error;
  const std::string exe = ckpt::resolve_program(opt.program[0], std::getenv("PATH"), error);
  if (exe.empty()) fail(error, ckpt::kExitNotFound);

  ckpt::InstallPaths paths;
  if (!ckpt::find_install_paths(paths, error)) fail(error, ckpt::cli::kExitFailed);
  const std::string lib = paths.libckpt().string();
  if (::access(lib.c_str(), R_OK) != 0)
    fail(lib + ": " + std::strerror(errno) + " (incomplete ckpt install?)", ckpt::cli::kExitFailed);

  const std::string ckptdir = prepare_dir(opt.ckptdir);
  const std::string tmpdir = opt.tmpdir.empty() ? std::string() : prepare_dir(opt.tmpdir, "--tmpdir");
  const std::string preload = preload_list(lib, opt.preload);

  ckpt::CoordinatorRequest req;
  req.host = opt.coord_host;
  req.port = opt.coord_port;
  req.mode = opt.join              ? ckpt::CoordinatorMode::Join
             : opt.new_coordinator ? ckpt::CoordinatorMode::New
                                   : ckpt::CoordinatorMode::Auto;
  req.ckptdir = ckptdir;
  req.interval = opt.interval;
  req.secret_file = opt.secret_file;
  req.keep = opt.keep;
  // Join must fail now if nobody listens, and New may have to report the
  // port it picked; Auto must not delay the program (it connects when the
  // coordinator is up).
  req.wait_until_listening = req.mode != ckpt::CoordinatorMode::Auto;
  switch (ckpt::ensure_coordinator(req, error)) {
    case ckpt::CoordinatorCheck::Ready: break;
    case ckpt::CoordinatorCheck::NoneListening: fail(error, ckpt::cli::kExitNoCoordinator);
    case ckpt::CoordinatorCheck::Failed: fail(error, ckpt::cli::kExitFailed);
    // Never join a computation that is not ours: our images would go where
    // its owner chose.
    case ckpt::CoordinatorCheck::Foreign: fail(error, ckpt::cli::kExitUsage);
  }

  // The environment contract with libckpt.so.
  set_env("LD_PRELOAD", preload);
  {
    const char* user = std::getenv("LD_PRELOAD");
    set_env(CKPT_ENV_USER_PRELOAD, ckpt::preload_without_libckpt(user != nullptr ? user : ""));
  }
  set_env(CKPT_ENV_COORD_HOST, req.host);
  set_env(CKPT_ENV_COORD_PORT, std::to_string(req.port));
  set_env(CKPT_ENV_SECRET_FILE, req.secret_path);
  set_env(CKPT_ENV_DIR, ckptdir);
  set_env(CKPT_ENV_INTERVAL, std::to_string(opt.interval));
  set_env(CKPT_ENV_COMPRESS, opt.compress ? "1" : "0");
  set_env(CKPT_ENV_COMPRESS_THREADS, std::to_string(opt.compress_threads));
  set_env(CKPT_ENV_FSYNC, opt.fsync ? "1" : "0");
  set_env(CKPT_ENV_INCREMENTAL, opt.incremental ? "1" : "0");
  set_env(CKPT_ENV_FULL_EVERY, std::to_string(opt.full_every));
  set_env(CKPT_ENV_ACCEPT_LOSS, opt.accept_loss ? "1" : "0");
  set_env(CKPT_ENV_OUTSIDE_CONNECTIONS, opt.fail_outside_connections ? "fail" : "close");
  if (!opt.host_name.empty()) set_env(CKPT_ENV_HOST_NAME, opt.host_name);
  if (!opt.rsh.empty()) set_env(CKPT_ENV_RSH, opt.rsh);
  if (!tmpdir.empty()) set_env(CKPT_ENV_TMPDIR, tmpdir);
  set_env(CKPT_ENV_MODIFY_ENV, opt.modify_env ? "1" : "0");
  if (opt.file_policy.empty()) ::unsetenv(CKPT_ENV_FILE_POLICY);
  else set_env(CKPT_ENV_FILE_POLICY, opt.file_policy);
  if (opt.path_map) set_env(CKPT_ENV_PATH_MAP, *opt.path_map);
  else ::unsetenv(CKPT_ENV_PATH_MAP);
  // Starting a fresh coordinator is a one-off request of this launch: a
  // ckpt_launch run later by PROG must join the computation, not split it.
  ::unsetenv("CKPT_NEW_COORDINATOR");
  // A fresh coordinator means a new computation, even when started from
  // inside another one: its standard streams are this launch's fds 0-2,
  // recorded anew by the first process (plugins/fd/std_streams.h).
  if (req.mode == ckpt::CoordinatorMode::New) ::unsetenv(CKPT_ENV_STDIO);

  // The dynamic loader ignores LD_PRELOAD for static, foreign and
  // secure-execution programs: say so, then run the program anyway.
  const ckpt::ExecTarget target = ckpt::classify_exec_path(AT_FDCWD, exe.c_str());
  if (target != ckpt::ExecTarget::Checkpointable)
    std::fprintf(stderr, "ckpt_launch: warning: %s %s; it runs outside the checkpoint\n", exe.c_str(),
                 ckpt::describe_exec_target(target));

  std::vector<char*> args;
  for (int i = argc - static_cast<int>(opt.program.size()); i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(exe.c_str(), args.data());
  fail(opt.program[0] + ": " + std::strerror(errno), ckpt::kExitNotFound);
}
