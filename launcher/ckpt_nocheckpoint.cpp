// ckpt_nocheckpoint PROG [ARG]...
//
// Runs PROG outside the computation it is started from (DMTCP's
// dmtcp_nocheckpoint): PROG and everything it starts are never checkpointed,
// and a restart does not bring them back. Inside a computation, libckpt puts
// itself back into the environment of every exec, even one whose caller
// removed it (a program cannot leave by accident); this tool is the way to
// leave on purpose: it execs PROG with LD_PRELOAD as the user gave it to
// ckpt_launch and without the CKPT_* variables, through the kernel's execve, past libckpt's
// own exec wrapper (this tool itself runs with libckpt loaded when a member
// of the computation starts it; its brief membership ends with the exec).
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ckpt/environment.h"
#include "cli.h"
#include "launch_options.h"

extern char** environ;

namespace {

constexpr const char* kTool = "ckpt_nocheckpoint";

// Our environment, minus everything that would make PROG join a computation.
// LD_PRELOAD goes back to what the user gave ckpt_launch (as
// dmtcp_nocheckpoint does): a library the computation preloaded since then
// was meant for its members (DMTCP's test nocheckpoint.c checks this). Run
// outside any computation, only libckpt.so is taken out.
std::vector<std::string> outside_environment() {
  const char* launch_preload = std::getenv(CKPT_ENV_USER_PRELOAD);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    if (entry.starts_with("CKPT_")) continue;
    if (entry.starts_with("LD_PRELOAD=")) {
      if (launch_preload != nullptr) continue;
      const std::string kept = ckpt::preload_without_libckpt(entry.substr(11));
      if (!kept.empty()) env.push_back("LD_PRELOAD=" + kept);
      continue;
    }
    env.emplace_back(entry);
  }
  if (launch_preload != nullptr && *launch_preload != '\0') env.push_back(std::string("LD_PRELOAD=") + launch_preload);
  return env;
}

}  // namespace

int main(int argc, char** argv) {
  ckpt::cli::Parser p(kTool, "ckpt_nocheckpoint PROG [ARG]...",
                      "Run PROG outside the computation this is started from: PROG and its children are never "
                      "checkpointed, and a restart does not bring them back.",
                      ckpt::cli::process_environment());
  p.stop_at_program();
  p.exit_statuses("never (once PROG runs, its status is this tool's)", false,
                  "  127  PROG missing, not found or not executable\n");
  std::string error;
  switch (p.run(argc, argv, [] {}, error)) {
    case ckpt::cli::Outcome::Help: std::fputs(p.help().c_str(), stdout); return 0;
    case ckpt::cli::Outcome::Version: std::puts(ckpt::cli::version_line(kTool).c_str()); return 0;
    case ckpt::cli::Outcome::Error: std::fprintf(stderr, "%s\n", error.c_str()); return ckpt::cli::kExitUsage;
    case ckpt::cli::Outcome::Run: break;
  }
  const std::vector<std::string>& program = p.rest();
  if (program.empty()) ckpt::cli::fail(kTool, "missing program to run (try --help)", ckpt::kExitNotFound);
  const std::string exe = ckpt::resolve_program(program[0], std::getenv("PATH"), error);
  if (exe.empty()) ckpt::cli::fail(kTool, error, ckpt::kExitNotFound);

  std::vector<std::string> env = outside_environment();
  std::vector<char*> envp, args;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (int i = argc - static_cast<int>(program.size()); i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::syscall(SYS_execve, exe.c_str(), args.data(), envp.data());
  ckpt::cli::fail(kTool, program[0] + ": " + std::strerror(errno), ckpt::kExitNotFound);
}
