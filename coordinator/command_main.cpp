// ckpt_command: one request to the coordinator, one reply, printed as text
// or (--json) as the coordinator's JSON.
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

#include "client.h"
#include "json.h"
#include "options.h"
#include "text.h"

namespace {

namespace pt = boost::property_tree;
using ckpt::coord::CommandAction;
using ckpt::coord::plural;
using ckpt::proto::MsgType;

[[noreturn]] void die(const std::string& message, int status) {
  std::fprintf(stderr, "ckpt_command: %s\n", message.c_str());
  std::exit(status);
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

std::string seconds(const pt::ptree& t, const char* key) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", t.get<double>(key, 0) / 1000.0);
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

void print_status(const pt::ptree& t) {
  const unsigned interval = t.get<unsigned>("interval", 0);
  std::printf("coordinator:     %s:%s (pid %s)\n", t.get<std::string>("host", "").c_str(),
              t.get<std::string>("port", "").c_str(), t.get<std::string>("pid", "").c_str());
  std::printf("processes:       %s\n", t.get<std::string>("processes", "0").c_str());
  std::printf("state:           %s\n", t.get<std::string>("state", "").c_str());
  std::printf("interval:        %s\n", interval > 0 ? (std::to_string(interval) + " s").c_str() : "off");
  if (const auto dir = t.get<std::string>("ckptdir", ""); !dir.empty()) std::printf("ckptdir:         %s\n", dir.c_str());
  const auto last = t.get_child_optional("last_checkpoint");
  if (!last) {
    std::printf("last checkpoint: none\n");
    return;
  }
  std::printf("last checkpoint: generation %s at %s, took %s, ", last->get<std::string>("generation", "").c_str(),
              last->get<std::string>("time", "").c_str(), seconds(*last, "duration_ms").c_str());
  if (last->get<bool>("ok", false))
    std::printf("ok\nrestart script:  %s\n", last->get<std::string>("script", "").c_str());
  else
    std::printf("failed: %s\n", last->get<std::string>("reason", "").c_str());
}

void print_list(const pt::ptree& t) {
  const auto procs = t.get_child_optional("processes");
  std::printf("%-4s %-20s %-8s %-24s %s\n", "ID", "PROGRAM", "PID", "HOST", "STATE");
  if (!procs) return;
  for (const auto& [unused, p] : *procs)
    std::printf("%-4s %-20s %-8s %-24s %s\n", p.get<std::string>("id", "").c_str(),
                p.get<std::string>("program", "").c_str(), p.get<std::string>("pid", "").c_str(),
                p.get<std::string>("host", "").c_str(), p.get<std::string>("state", "").c_str());
}

void print_reply(CommandAction action, const pt::ptree& t) {
  switch (action) {
    case CommandAction::Checkpoint: {
      const auto images = t.get_child_optional("images");
      std::printf("checkpoint %s written: %s, %s in %s\nrestart script: %s\n",
                  t.get<std::string>("generation", "").c_str(), plural(images ? images->size() : 0, "image").c_str(),
                  size_text(t.get<uint64_t>("bytes", 0)).c_str(), seconds(t, "duration_ms").c_str(),
                  t.get<std::string>("script", "").c_str());
      std::fflush(stdout);  // the warnings follow the line they belong to
      if (const auto warnings = t.get_child_optional("warnings"))
        for (const auto& [unused, w] : *warnings) std::fprintf(stderr, "ckpt_command: warning: %s\n", w.data().c_str());
      break;
    }
    case CommandAction::Status: print_status(t); break;
    case CommandAction::List: print_list(t); break;
    case CommandAction::Interval: {
      const unsigned interval = t.get<unsigned>("interval", 0);
      if (interval > 0)
        std::printf("checkpoint interval: %u s\n", interval);
      else
        std::printf("periodic checkpoints off\n");
      break;
    }
    case CommandAction::Kill: std::printf("killed %s\n", plural(t.get<size_t>("killed", 0), "process").c_str()); break;
    case CommandAction::Quit:
      std::printf("killed %s; coordinator exiting\n", plural(t.get<size_t>("killed", 0), "process").c_str());
      break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto parsed = ckpt::coord::parse_command_args(args, [](const char* n) { return std::getenv(n); });
  switch (parsed.outcome) {
    case ckpt::coord::ParseOutcome::Help: std::fputs(ckpt::coord::kCommandUsage, stdout); return 0;
    case ckpt::coord::ParseOutcome::Error: std::fprintf(stderr, "%s\n", parsed.error.c_str()); return 2;
    case ckpt::coord::ParseOutcome::Run: break;
  }
  const ckpt::coord::CommandOptions& opt = parsed.options;
  const std::string where = opt.host + ":" + std::to_string(opt.port);

  std::string error;
  const int fd = ckpt::coord::connect_to(opt.host, opt.port, error);
  if (fd < 0) die("no coordinator at " + where + ": " + error, 2);
  // Only a checkpoint may legitimately take long (the coordinator enforces its
  // own barrier timeout); anything else that hangs is not a coordinator.
  if (opt.action != CommandAction::Checkpoint) {
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  const uint64_t arg = opt.action == CommandAction::Interval ? opt.interval : 0;
  ckpt::proto::MsgHeader reply{};
  std::string payload;
  if (!ckpt::coord::send_message(fd, ckpt::proto::make_header(request_type(opt.action), 0, 0, arg), {}, error) ||
      !ckpt::coord::recv_message(fd, reply, payload, error))
    die(where + ": " + error, 2);
  ::close(fd);
  if (reply.type != static_cast<uint16_t>(MsgType::CmdReply)) die(where + ": unexpected reply from the coordinator", 2);

  if (reply.status != 0) {
    if (opt.json)
      std::printf("%s\n", ckpt::coord::JsonObject()
                              .add("ok", false)
                              .add("status", reply.status)
                              .add("error", payload)
                              .str()
                              .c_str());
    else
      std::fprintf(stderr, "ckpt_command: %s\n", payload.c_str());
    return 1;
  }
  if (opt.json) {
    std::printf("%s\n", payload.c_str());
    return 0;
  }
  pt::ptree tree;
  try {
    std::istringstream in(payload);
    pt::read_json(in, tree);
  } catch (const pt::json_parser_error& e) {
    die(where + ": unreadable reply: " + e.message(), 2);
  }
  print_reply(opt.action, tree);
  return 0;
}
