#include "coordinator_start.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "cli.h"
#include "client.h"

extern char** environ;

namespace ckpt {

namespace {

std::string exe_dir(std::string& error) {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) {
    error = std::string("/proc/self/exe: ") + std::strerror(errno);
    return {};
  }
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

// Runs in the forked child: a clean slate for the coordinator, then exec.
// Only async-signal-safe calls, as the caller may have threads.
[[noreturn]] void exec_coordinator(const char* path, char* const* argv, char* const* envp, int stderr_fd) {
  const int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(stderr_fd >= 0 ? stderr_fd : null_fd, STDERR_FILENO);
  }
  // Nothing the caller opened may live on in a long-running daemon (a pipe
  // kept open there would never see EOF).
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
    for (int fd = 3; fd < 65536; ++fd) ::close(fd);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(path, argv, envp);
  ::_exit(127);
}

bool wait_child(pid_t pid, int& status) {
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return false;
  return true;
}

bool start_coordinator(CoordinatorRequest& req, std::string& error) {
  const std::string dir = exe_dir(error);
  if (dir.empty()) return false;
  const std::string path = dir + "/ckpt_coordinator";
  if (::access(path.c_str(), X_OK) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }

  const bool wait = req.wait_until_listening || req.port == 0;
  std::string port_file;
  if (req.port == 0) {
    const char* tmp = std::getenv("TMPDIR");
    port_file = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ckpt_coord_port.XXXXXX";
    const int fd = ::mkostemp(port_file.data(), O_CLOEXEC);
    if (fd < 0) {
      error = "create " + port_file + ": " + std::strerror(errno);
      return false;
    }
    ::close(fd);
  }

  std::vector<std::string> args = {path, "--daemon", "--exit-on-last", "--port", std::to_string(req.port)};
  if (!port_file.empty()) args.insert(args.end(), {"--port-file", port_file});
  // Without it, the coordinator uses (and at its end removes) the default
  // file for its port, the one secret_path() names.
  if (!req.secret_file.empty()) args.insert(args.end(), {"--secret-file", req.secret_path});
  if (!req.ckptdir.empty()) args.insert(args.end(), {"--ckptdir", req.ckptdir});
  if (req.interval > 0) args.insert(args.end(), {"--interval", std::to_string(req.interval)});
  if (req.keep > 0) args.insert(args.end(), {"--keep", std::to_string(req.keep)});
  if (!req.listen.empty()) args.insert(args.end(), {"--listen", req.listen});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The coordinator must not inherit a preloaded libckpt (from an
  // application that runs ckpt_launch itself): it is no worker.
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("LD_PRELOAD=", 0) != 0) envp.push_back(*e);
  envp.push_back(nullptr);

  if (!wait) {
    // Double fork: the coordinator is nobody's child here, so it can neither
    // become our zombie nor show up in the application's wait().
    const pid_t mid = ::fork();
    if (mid < 0) {
      error = std::string("fork: ") + std::strerror(errno);
      return false;
    }
    if (mid == 0) {
      // Our stderr, which the program inherits, hears why a coordinator could
      // not start (its port taken, say): otherwise the program would run
      // unprotected without a word. Once listening it writes to its log only.
      if (::fork() == 0) exec_coordinator(path.c_str(), argv.data(), envp.data(), STDERR_FILENO);
      ::_exit(0);
    }
    int status = 0;
    wait_child(mid, status);
    return true;
  }

  // The daemon's parent exits once the port is bound (status 0) or with a
  // one-line error on stderr, which we capture.
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    return false;
  }
  if (pid == 0) exec_coordinator(path.c_str(), argv.data(), envp.data(), err_pipe[1]);
  ::close(err_pipe[1]);
  std::string output;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(err_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  ::close(err_pipe[0]);
  int status = 0;
  const bool reaped = wait_child(pid, status);

  auto discard_port_file = [&] {
    if (!port_file.empty()) ::unlink(port_file.c_str());
  };
  if (!reaped || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // The coordinator's own one-line error says it best.
    error = output.substr(0, output.find('\n'));
    if (error.empty() && reaped && WIFEXITED(status))
      error = path + " exited with status " + std::to_string(WEXITSTATUS(status));
    else if (error.empty() && reaped && WIFSIGNALED(status))
      error = path + " killed by " + ::strsignal(WTERMSIG(status));
    else if (error.empty())
      error = path + " did not start";
    discard_port_file();
    return false;
  }
  if (!port_file.empty()) {
    char text[16] = {};
    const int fd = ::open(port_file.c_str(), O_RDONLY | O_CLOEXEC);
    const ssize_t n = fd >= 0 ? ::read(fd, text, sizeof text - 1) : -1;
    if (fd >= 0) ::close(fd);
    discard_port_file();
    const long port = n > 0 ? std::strtol(text, nullptr, 10) : 0;
    if (port <= 0 || port > 65535) {
      error = "ckpt_coordinator did not report the port it listens on";
      return false;
    }
    req.port = static_cast<uint16_t>(port);
  }
  return true;
}

// Whether a coordinator accepts connections at req.host:req.port; for a
// remote host, `why` tells what went wrong.
bool listening(const CoordinatorRequest& req, bool local, std::string& why) {
  if (local) {
    if (coord::probe_local_port(req.port) == coord::ProbeResult::Listening) return true;
    why = "Connection refused";
    return false;
  }
  const int fd = coord::connect_to(req.host, req.port, why);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool secret_path(CoordinatorRequest& req, std::string& error) {
  req.secret_path = cli::secret_file_path(req.secret_file, req.port, error);
  if (req.secret_path.empty()) error = "secret file: " + error;
  return !req.secret_path.empty();
}

// Makes the secret before the coordinator exists (a program launched without
// waiting for it must find the file at once); with port 0 only the
// coordinator knows its file's name, so the secret is read after it started.
CoordinatorCheck start(CoordinatorRequest& req, std::string& error) {
  char why[512];
  const bool before = req.port != 0 || !req.secret_file.empty();
  if (before && (!secret_path(req, error) ||
                 !auth::load_or_create_secret(req.secret_path.c_str(), req.secret, why, sizeof why))) {
    if (error.empty()) error = std::string("secret file ") + why;
    return CoordinatorCheck::Failed;
  }
  if (!start_coordinator(req, error)) return CoordinatorCheck::Failed;
  if (!before && (!secret_path(req, error) || !auth::read_secret(req.secret_path.c_str(), req.secret, why, sizeof why))) {
    if (error.empty()) error = std::string("secret file ") + why;
    return CoordinatorCheck::Failed;
  }
  return CoordinatorCheck::Ready;
}

// A coordinator listens at req.host:req.port: ours only if it runs as this
// user (when local) and proves it knows our secret.
CoordinatorCheck verify(CoordinatorRequest& req, const std::string& where, std::string& error) {
  if (!secret_path(req, error)) return CoordinatorCheck::Failed;
  char why[512];
  if (!auth::read_secret(req.secret_path.c_str(), req.secret, why, sizeof why)) {
    error = "a coordinator listens at " + where + ", but there is no secret to prove it is ours: " + why +
            " (another user's? give its --secret-file, or use --new-coordinator or another port)";
    return CoordinatorCheck::Foreign;
  }
  bool refused = false;
  const int fd = coord::connect_authenticated(req.host, req.port, req.secret, error, refused);
  if (fd >= 0) {
    ::close(fd);
    return CoordinatorCheck::Ready;
  }
  error = (refused ? "" : "no coordinator at ") + where + ": " + error;
  return refused ? CoordinatorCheck::Foreign : CoordinatorCheck::NoneListening;
}

}  // namespace

CoordinatorCheck ensure_coordinator(CoordinatorRequest& req, std::string& error) {
  const bool local = coord::host_is_local(req.host);
  const std::string where = req.host + ":" + std::to_string(req.port);
  std::string why;
  switch (req.mode) {
    case CoordinatorMode::Join:
      if (req.port != 0 && listening(req, local, why)) return verify(req, where, error);
      error = "no coordinator at " + where + (why.empty() ? std::string() : ": " + why);
      return CoordinatorCheck::NoneListening;
    case CoordinatorMode::Auto:
      if (req.port != 0 && listening(req, local, why)) return verify(req, where, error);
      if (!local) {
        error = "no coordinator at " + where + ": " + why + " (one is only started automatically on this host)";
        return CoordinatorCheck::NoneListening;
      }
      return start(req, error);
    case CoordinatorMode::New:
      if (!local) {
        error = "cannot start a coordinator on " + req.host + ": not this host";
        return CoordinatorCheck::Failed;
      }
      if (req.port != 0 && listening(req, local, why)) {
        error = "port " + std::to_string(req.port) + " is already in use (a coordinator runs there?)";
        return CoordinatorCheck::Failed;
      }
      return start(req, error);
  }
  return CoordinatorCheck::Failed;
}

}  // namespace ckpt
