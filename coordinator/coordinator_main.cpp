// ckpt_coordinator: parses its flags, binds its port, optionally detaches,
// then hands over to the network shell (server.cpp) around the state machine.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "atomic_file.h"
#include "ckpt/auth.h"
#include "generations.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "state_machine.h"

namespace {

[[noreturn]] void die(const std::string& message, int status) { ckpt::cli::fail("ckpt_coordinator", message, status); }

// In this user's private directory: a predictable name in a shared /tmp
// would let another user point it elsewhere (a symbolic link, a file of
// theirs).
std::string default_log_file(uint16_t port) {
  std::string error;
  const std::string dir = ckpt::cli::private_dir(error);
  if (dir.empty()) die("log file: " + error, ckpt::cli::kExitFailed);
  return dir + "/ckpt_coordinator." + std::to_string(port) + ".log";
}

// Detaches from the caller. The port is already bound, so the caller may
// connect as soon as this parent has exited.
void daemonize(const std::string& log_file) {
  std::string error;
  const int log_fd = ckpt::cli::open_log(log_file, error);
  if (log_fd < 0) die("log file " + error, ckpt::cli::kExitFailed);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) die(std::string("/dev/null: ") + std::strerror(errno), ckpt::cli::kExitFailed);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) die(std::string("fork: ") + std::strerror(errno), ckpt::cli::kExitFailed);
  if (pid > 0) ::_exit(0);
  ::setsid();
  // Replacing stderr also closes a caller's pipe that waits for our parent's exit.
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  ::close(null_fd);
  ::close(log_fd);
  if (::chdir("/") != 0) die(std::string("chdir /: ") + std::strerror(errno), ckpt::cli::kExitFailed);
}

std::string our_hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// ckpt_restart next to this executable; the script falls back to PATH.
std::string restart_program() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "ckpt_restart";
  return (exe.parent_path() / "ckpt_restart").string();
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto parsed = ckpt::coord::parse_coordinator_args(args, ckpt::cli::process_environment());
  switch (parsed.outcome) {
    case ckpt::coord::ParseOutcome::Help: std::fputs(ckpt::coord::coordinator_usage().c_str(), stdout); return 0;
    case ckpt::coord::ParseOutcome::Version: std::puts(ckpt::cli::version_line("ckpt_coordinator").c_str()); return 0;
    case ckpt::coord::ParseOutcome::Error: std::fprintf(stderr, "%s\n", parsed.error.c_str()); return ckpt::cli::kExitUsage;
    case ckpt::coord::ParseOutcome::Run: break;
  }
  const ckpt::coord::CoordinatorOptions& opt = parsed.options;
  std::signal(SIGPIPE, SIG_IGN);

  // --ckptdir must be absolute: the daemon changes directory, and the
  // workers resolve it in their own working directories.
  std::string ckptdir;
  if (!opt.ckptdir.empty()) {
    std::error_code ec;
    ckptdir = std::filesystem::absolute(opt.ckptdir, ec).lexically_normal().string();
    if (ec) die("--ckptdir " + opt.ckptdir + ": " + ec.message(), ckpt::cli::kExitFailed);
    while (ckptdir.size() > 1 && ckptdir.back() == '/') ckptdir.pop_back();
    // Fail now rather than at the first checkpoint, when the restart script
    // could not be written there.
    std::filesystem::create_directories(ckptdir, ec);
    if (ec) die("--ckptdir " + ckptdir + ": " + ec.message(), ckpt::cli::kExitFailed);
  }
  std::string port_file = opt.port_file;
  std::string log_file = opt.log_file;
  if (!port_file.empty()) port_file = std::filesystem::absolute(port_file).string();
  if (!log_file.empty()) log_file = std::filesystem::absolute(log_file).string();

  uint16_t port = opt.port;
  std::string error;
  const int listen_fd = ckpt::coord::open_listener(opt.listen, port, error);
  if (listen_fd < 0) die(error, ckpt::cli::kExitFailed);
  // Before the port file: whoever waits for it may read the secret next.
  const std::string secret_file = ckpt::cli::secret_file_path(opt.secret_file, port, error);
  if (secret_file.empty()) die("secret file: " + error, ckpt::cli::kExitFailed);
  ckpt::auth::Secret secret;
  char why[512];
  if (!ckpt::auth::load_or_create_secret(secret_file.c_str(), secret, why, sizeof why))
    die("secret file " + std::string(why), ckpt::cli::kExitFailed);
  if (!port_file.empty()) {
    error = ckpt::coord::write_file_atomically(port_file, std::to_string(port) + "\n", 0644);
    if (!error.empty()) die("--port-file: " + error, ckpt::cli::kExitFailed);
  }
  if (opt.daemon) {
    if (log_file.empty()) log_file = default_log_file(port);
    daemonize(log_file);
    ckpt::coord::rotate_log_at(log_file, opt.log_size);
  }

  ckpt::coord::Config config;
  config.hostname = our_hostname();
  config.port = port;
  config.pid = ::getpid();
  config.ckptdir = ckptdir;
  config.interval_sec = opt.interval;
  config.interval_given = opt.interval_given;
  config.timeout = std::chrono::seconds(opt.timeout);
  config.exit_on_last = opt.exit_on_last;
  config.restart_program = restart_program();
  if (!ckpt::auth::random_bytes(&config.computation_id, sizeof config.computation_id) || config.computation_id == 0)
    config.computation_id = static_cast<uint64_t>(::getpid()) << 32 | static_cast<uint64_t>(::time(nullptr));
  config.keep = opt.keep;
  config.scan = ckpt::coord::scan_generations;
  config.image_parent = ckpt::coord::image_parent;
  ckpt::coord::Coordinator coordinator(config);
  ckpt::coord::write_log(ckpt::coord::LogLevel::Info, "connections must prove they know the secret in " + secret_file);
  bool asked_to_exit = false;
  const int status = ckpt::coord::run_server(listen_fd, coordinator, secret, asked_to_exit);
  // Asked to exit (--quit, or --exit-on-last), no process of ours is left to
  // need the secret: a default one goes with us. Ended by a signal, processes
  // may live on and join a coordinator started later on this port, which
  // finds the same secret. A --secret-file is the user's to keep.
  if (asked_to_exit && opt.secret_file.empty()) ::unlink(secret_file.c_str());
  return status;
}
