// run_host_shares (restart_hosts.h): the processes and the coordinator's
// answers; the plan is in restart_hosts.cpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli.h"
#include "cli_json.h"
#include "ckpt/restart.h"
#include "client.h"
#include "restart_hosts.h"

namespace ckpt {
namespace {

constexpr int kPollMs = 100;
// After a failure, how long the other shares get to end on their own (their
// processes are killed as they join) before they are killed outright.
constexpr int kWindDownMs = 30'000;

struct Running {
  pid_t pid = -1;
  bool done = false;
  int status = 0;
};

// One request to the coordinator; its JSON reply, or nothing (`error` set).
std::optional<cli::Json> ask(const ShareJoin& join, const auth::Secret& secret, proto::MsgType type,
                             std::string& error) {
  bool refused = false;
  const int fd = coord::connect_authenticated(join.coord_host, static_cast<uint16_t>(join.coord_port), secret, error,
                                              refused);
  if (fd < 0) return std::nullopt;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  proto::MsgHeader reply{};
  std::string payload;
  const bool ok = coord::send_message(fd, proto::make_header(type), {}, error) &&
                  coord::recv_message(fd, reply, payload, error);
  ::close(fd);
  if (!ok) return std::nullopt;
  cli::Json tree = cli::Json::parse(payload, nullptr, false);
  if (tree.is_discarded() || !tree.is_object()) {
    error = "unreadable reply: " + payload.substr(0, 80);
    return std::nullopt;
  }
  return tree;
}

uint64_t restarts_finished(const cli::Json& status) { return status.value("restarts_finished", uint64_t{0}); }

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + ::strsignal(WTERMSIG(status));
  return "ended";
}

pid_t spawn(const std::vector<std::string>& cmd) {
  std::vector<char*> argv;
  for (const std::string& word : cmd) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Several shares must not read one terminal; their output is ours.
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "%s\n", cli::error_line("ckpt_restart", cmd[0] + ": " + std::strerror(errno)).c_str());
    ::_exit(127);
  }
  return pid;
}

void sleep_ms(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

int run_host_shares(const std::vector<HostShare>& shares, const std::vector<std::vector<std::string>>& commands,
                    const ShareJoin& join, const auth::Secret& secret) {
  std::string error;
  const auto before = ask(join, secret, proto::MsgType::CmdStatus, error);
  if (!before) throw RestartError("coordinator " + join.coord_host + ":" + std::to_string(join.coord_port) + ": " + error);
  const uint64_t finished_before = restarts_finished(*before);

  std::vector<Running> running(shares.size());
  for (size_t i = 0; i < shares.size(); ++i) {
    running[i].pid = spawn(commands[i]);
    if (running[i].pid < 0) throw RestartError(std::string("fork: ") + std::strerror(errno));
  }
  auto reap = [&](bool block) {
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, block ? 0 : WNOHANG)) > 0;) {
      for (size_t i = 0; i < running.size(); ++i)
        if (running[i].pid == pid) running[i] = {pid, true, status};
      if (block) return;
    }
  };
  // The computation does not run: every share goes, and so does whatever
  // of it joins the coordinator. A share still restoring would leave its
  // processes behind if killed itself, so each is left to end, its
  // processes killed as they join, and only killed once it takes too long.
  auto fail = [&](const std::string& why) -> int {
    std::string ignored;
    for (int waited = 0;; waited += kPollMs) {
      ask(join, secret, proto::MsgType::CmdKill, ignored);
      reap(false);
      const bool all_done =
          std::all_of(running.begin(), running.end(), [](const Running& r) { return r.done; });
      if (all_done) break;
      if (waited >= kWindDownMs) {
        for (const Running& r : running)
          if (!r.done) ::kill(r.pid, SIGKILL);
        for (const Running& r : running)
          if (!r.done) ::waitpid(r.pid, nullptr, 0);
        break;
      }
      sleep_ms(kPollMs);
    }
    std::fprintf(stderr, "%s\n", cli::error_line("ckpt_restart", why).c_str());
    return cli::kExitFailed;
  };

  // The coordinator times a restart out once a process rejoined; before
  // that (shares that hang: a remote shell that never connects) this does.
  const int64_t quiet_limit_ms = before->value("timeout", int64_t{60}) * 1000;
  for (int64_t waited_ms = 0;; waited_ms += kPollMs) {
    reap(false);
    for (size_t i = 0; i < shares.size(); ++i) {
      if (!running[i].done) continue;
      // A share that ends before the computation runs again failed (an
      // unreachable host, a refused image, a coordinator it cannot join).
      const auto status = ask(join, secret, proto::MsgType::CmdStatus, error);
      if (status && restarts_finished(*status) > finished_before) break;
      std::string how;  // the remote shell's part: "ssh node2"
      for (const std::string& word : commands[i]) {
        if (word == join.restart_program) break;
        how += word + " ";
      }
      return fail("the restart of the processes of host " + shares[i].from + " on " + shares[i].to + " (" + how +
                  "ckpt_restart ...) " + describe_status(running[i].status) + " before the computation ran");
    }
    const auto status = ask(join, secret, proto::MsgType::CmdStatus, error);
    if (!status) return fail("coordinator " + join.coord_host + ":" + std::to_string(join.coord_port) + ": " + error);
    if (restarts_finished(*status) > finished_before) {
      const cli::Json last = status->value("last_restart", cli::Json::object());
      if (!last.value("ok", false)) return fail(last.value("reason", std::string("the restart failed")));
      break;
    }
    if (!status->contains("restart_in_progress") && waited_ms > quiet_limit_ms)
      return fail("no restarted process reached the coordinator within " + std::to_string(quiet_limit_ms / 1000) +
                  " s (do the hosts reach it at " + join.coord_host + "?)");
    sleep_ms(kPollMs);
  }

  int result = 0;
  for (;;) {
    bool all_done = true;
    for (const Running& r : running) all_done = all_done && r.done;
    if (all_done) break;
    reap(true);
  }
  for (const Running& r : running) {
    const int code = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : 128 + WTERMSIG(r.status);
    if (code != 0 && result == 0) result = code;
  }
  return result;
}

}  // namespace ckpt
