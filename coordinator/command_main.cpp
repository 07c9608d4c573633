// ckpt_command: one request to the coordinator, one reply, printed as text
// or (--json) as the coordinator's JSON.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

#include "checkpoint_figures.h"
#include "cli.h"
#include "client.h"
#include "cli_json.h"
#include "options.h"
#include "text.h"

namespace {

using ckpt::cli::Json;
using ckpt::coord::CommandAction;
using ckpt::coord::plural;
using ckpt::proto::MsgType;

[[noreturn]] void die(const std::string& message, int status) { ckpt::cli::fail("ckpt_command", message, status); }

// A member as text: strings as they are, numbers as written; "" when absent
// (a coordinator of another version may lack it).
std::string text(const Json& t, const char* key) {
  const auto it = t.find(key);
  if (it == t.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// A numeric member, or `fallback` when it is absent or not a number.
template <typename T>
T number(const Json& t, const char* key, T fallback) {
  const auto it = t.find(key);
  return it != t.end() && it->is_number() ? it->get<T>() : fallback;
}

MsgType request_type(CommandAction a) {
  switch (a) {
    case CommandAction::Checkpoint: return MsgType::CmdCheckpoint;
    case CommandAction::Status: return MsgType::CmdStatus;
    case CommandAction::List: return MsgType::CmdList;
    case CommandAction::Interval: return MsgType::CmdInterval;
    case CommandAction::Kill: return MsgType::CmdKill;
    case CommandAction::Quit: return MsgType::CmdQuit;
  }
  return MsgType::CmdStatus;
}

std::string seconds(const Json& t, const char* key) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", number<double>(t, key, 0) / 1000.0);
  return buf;
}

std::string size_text(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1u << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  return buf;
}

void print_status(const Json& t) {
  const unsigned interval = number<unsigned>(t, "interval", 0);
  std::printf("coordinator:     %s:%s (pid %s)\n", text(t, "host").c_str(), text(t, "port").c_str(),
              text(t, "pid").c_str());
  const std::string processes = text(t, "processes");
  std::printf("processes:       %s\n", processes.empty() ? "0" : processes.c_str());
  std::printf("state:           %s\n", text(t, "state").c_str());
  std::printf("interval:        %s\n", interval > 0 ? (std::to_string(interval) + " s").c_str() : "off");
  if (const auto dir = text(t, "ckptdir"); !dir.empty()) std::printf("ckptdir:         %s\n", dir.c_str());
  if (const auto now = t.find("restart_in_progress"); now != t.end() && now->is_object())
    std::printf("restart:         generation %s, %s of %s processes rejoined\n", text(*now, "generation").c_str(),
                text(*now, "rejoined").c_str(), text(*now, "expected").c_str());
  else if (const auto done = t.find("last_restart"); done != t.end() && done->is_object()) {
    std::string running;
    if (const auto ms = done->find("running_ms"); ms != done->end() && ms->is_number()) {
      char buf[96];
      std::snprintf(buf, sizeof buf, ", running %.1f ms after ckpt_restart started%s", ms->get<double>(),
                    done->value("lazy", false) ? " (memory read on first touch)" : "");
      running = buf;
    }
    std::printf("last restart:    generation %s, %s%s\n", text(*done, "generation").c_str(),
                done->value("ok", false) ? plural(number<size_t>(*done, "processes", 0), "process").c_str()
                                         : ("failed: " + text(*done, "reason")).c_str(),
                running.c_str());
  }
  const auto last = t.find("last_checkpoint");
  if (last == t.end() || !last->is_object()) {
    std::printf("last checkpoint: none\n");
    return;
  }
  std::printf("last checkpoint: generation %s at %s, took %s, ", text(*last, "generation").c_str(),
              text(*last, "time").c_str(), seconds(*last, "duration_ms").c_str());
  if (last->value("ok", false)) {
    std::printf("ok\nrestart script:  %s\n", text(*last, "script").c_str());
    if (const auto figures = last->find("stats"); figures != last->end())
      if (const std::string line = ckpt::coord::checkpoint_figures_line(*figures); !line.empty())
        std::printf("figures:         %s\n", line.c_str());
  }
  else
    std::printf("failed: %s\n", text(*last, "reason").c_str());
}

void print_list(const Json& t) {
  std::printf("%-4s %-20s %-8s %-24s %s\n", "ID", "PROGRAM", "PID", "HOST", "STATE");
  const auto procs = t.find("processes");
  if (procs == t.end() || !procs->is_array()) return;
  for (const Json& p : *procs)
    std::printf("%-4s %-20s %-8s %-24s %s\n", text(p, "id").c_str(), text(p, "program").c_str(),
                text(p, "pid").c_str(), text(p, "host").c_str(), text(p, "state").c_str());
}

void print_reply(CommandAction action, const Json& t) {
  switch (action) {
    case CommandAction::Checkpoint: {
      const auto images = t.find("images");
      const size_t count = images != t.end() && images->is_array() ? images->size() : 0;
      const auto figures = t.find("stats");
      const std::string summary = figures != t.end() ? ckpt::coord::checkpoint_figures_line(*figures) : "";
      std::printf("checkpoint %s written: %s, %s in %s%s%s\nrestart script: %s\n", text(t, "generation").c_str(),
                  plural(count, "image").c_str(), size_text(number<uint64_t>(t, "bytes", 0)).c_str(),
                  seconds(t, "duration_ms").c_str(), summary.empty() ? "" : "; ", summary.c_str(),
                  text(t, "script").c_str());
      if (t.contains("killed")) std::printf("killed %s\n", plural(number<size_t>(t, "killed", 0), "process").c_str());
      std::fflush(stdout);  // the warnings follow the line they belong to
      if (const auto warnings = t.find("warnings"); warnings != t.end() && warnings->is_array())
        for (const Json& w : *warnings)
          if (w.is_string()) std::fprintf(stderr, "ckpt_command: warning: %s\n", w.get<std::string>().c_str());
      break;
    }
    case CommandAction::Status: print_status(t); break;
    case CommandAction::List: print_list(t); break;
    case CommandAction::Interval: {
      const unsigned interval = number<unsigned>(t, "interval", 0);
      if (interval > 0)
        std::printf("checkpoint interval: %u s\n", interval);
      else
        std::printf("periodic checkpoints off\n");
      break;
    }
    case CommandAction::Kill: std::printf("killed %s\n", plural(number<size_t>(t, "killed", 0), "process").c_str()); break;
    case CommandAction::Quit:
      std::printf("killed %s; coordinator exiting\n", plural(number<size_t>(t, "killed", 0), "process").c_str());
      break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using ckpt::cli::kExitFailed;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto parsed = ckpt::coord::parse_command_args(args, ckpt::cli::process_environment());
  switch (parsed.outcome) {
    case ckpt::coord::ParseOutcome::Help: std::fputs(ckpt::coord::command_usage().c_str(), stdout); return 0;
    case ckpt::coord::ParseOutcome::Version: std::puts(ckpt::cli::version_line("ckpt_command").c_str()); return 0;
    case ckpt::coord::ParseOutcome::Error: std::fprintf(stderr, "%s\n", parsed.error.c_str()); return ckpt::cli::kExitUsage;
    case ckpt::coord::ParseOutcome::Run: break;
  }
  const ckpt::coord::CommandOptions& opt = parsed.options;
  const std::string where = opt.host + ":" + std::to_string(opt.port);

  std::string error;
  const std::string secret_file = ckpt::cli::secret_file_path(opt.secret_file, opt.port, error);
  if (secret_file.empty()) die("secret file: " + error, kExitFailed);
  ckpt::auth::Secret secret;
  char why[512];
  const bool have_secret = ckpt::auth::read_secret(secret_file.c_str(), secret, why, sizeof why);
  bool refused = false;
  const int fd = have_secret ? ckpt::coord::connect_authenticated(opt.host, opt.port, secret, error, refused) : -1;
  if (fd < 0 && refused) die(where + ": " + error, kExitFailed);
  if (fd < 0 && have_secret) die("no coordinator at " + where + ": " + error, ckpt::cli::kExitNoCoordinator);
  if (fd < 0) {
    // No secret: say whether anybody listens there at all.
    const int probe = ckpt::coord::connect_to(opt.host, opt.port, error);
    if (probe < 0) die("no coordinator at " + where + ": " + error, ckpt::cli::kExitNoCoordinator);
    ::close(probe);
    die(where + ": no secret to prove this computation is yours: " + std::string(why) +
            " (give the coordinator's --secret-file)",
        kExitFailed);
  }
  // Only a checkpoint may legitimately take long (the coordinator enforces its
  // own barrier timeout); anything else that hangs is not a coordinator.
  if (opt.action != CommandAction::Checkpoint) {
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  const uint64_t arg = opt.action == CommandAction::Interval ? opt.interval
                       : opt.then_kill                          ? ckpt::proto::kCheckpointThenKill
                                                                : 0;
  ckpt::proto::MsgHeader reply{};
  std::string payload;
  if (!ckpt::coord::send_message(fd, ckpt::proto::make_header(request_type(opt.action), 0, 0, arg), {}, error) ||
      !ckpt::coord::recv_message(fd, reply, payload, error))
    die(where + ": " + error, kExitFailed);
  ::close(fd);
  if (reply.type != static_cast<uint16_t>(MsgType::CmdReply)) die(where + ": unexpected reply from the coordinator", kExitFailed);

  if (reply.status != 0) {
    if (opt.json)
      std::printf("%s\n", ckpt::cli::json_text(Json{{"ok", false}, {"status", reply.status}, {"error", payload}}).c_str());
    else
      std::fprintf(stderr, "ckpt_command: %s\n", payload.c_str());
    return kExitFailed;
  }
  if (opt.json) {
    std::printf("%s\n", payload.c_str());
    return 0;
  }
  const Json tree = Json::parse(payload, nullptr, false);
  if (tree.is_discarded() || !tree.is_object()) die(where + ": unreadable reply: " + payload.substr(0, 80), kExitFailed);
  print_reply(opt.action, tree);
  return 0;
}
