// Command-line rules of ckpt_coordinator and ckpt_command.
#include <gtest/gtest.h>

#include <map>

#include "options.h"

namespace ckpt::coord {
namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

CoordinatorParse coord(std::vector<std::string> args, const FakeEnv& env = {}) {
  return parse_coordinator_args(args, env.lookup());
}
CommandParse command(std::vector<std::string> args, const FakeEnv& env = {}) {
  return parse_command_args(args, env.lookup());
}

TEST(CoordinatorOptions, Defaults) {
  auto r = coord({});
  ASSERT_EQ(r.outcome, ParseOutcome::Run);
  EXPECT_EQ(r.options.port, 7779);
  EXPECT_EQ(r.options.timeout, 60u);
  EXPECT_EQ(r.options.interval, 0u);
  EXPECT_FALSE(r.options.interval_given);
  EXPECT_FALSE(r.options.daemon);
  EXPECT_FALSE(r.options.exit_on_last);
}

TEST(CoordinatorOptions, AllFlagsInBothForms) {
  auto r = coord({"--port", "0", "--port-file=/tmp/p", "--ckptdir", "/d", "--interval=30", "--exit-on-last",
                  "--daemon", "--timeout", "5", "--log", "/tmp/log"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.error;
  EXPECT_EQ(r.options.port, 0);
  EXPECT_EQ(r.options.port_file, "/tmp/p");
  EXPECT_EQ(r.options.ckptdir, "/d");
  EXPECT_EQ(r.options.interval, 30u);
  EXPECT_TRUE(r.options.interval_given);
  EXPECT_TRUE(r.options.exit_on_last);
  EXPECT_TRUE(r.options.daemon);
  EXPECT_EQ(r.options.timeout, 5u);
  EXPECT_EQ(r.options.log_file, "/tmp/log");
}

TEST(CoordinatorOptions, LogSizeHasADefaultAFloorAndATwin) {
  EXPECT_EQ(coord({}).options.log_size, kDefaultLogSize);
  EXPECT_EQ(coord({"--log-size", "65536"}).options.log_size, 65536u);
  FakeEnv env{{{"CKPT_LOG_SIZE", "10000"}}};
  EXPECT_EQ(coord({}, env).options.log_size, 10000u);
  EXPECT_EQ(coord({"--log-size=100"}).error, "ckpt_coordinator: --log-size: must be at least 4096 bytes");
  EXPECT_EQ(coord({"--log-size", "1M"}).error, "ckpt_coordinator: --log-size: '1M' is not a number");
}

TEST(CoordinatorOptions, EnvironmentTwinsYieldToFlags) {
  FakeEnv env{{{"CKPT_COORD_PORT", "8000"}, {"CKPT_TIMEOUT", "9"}}};
  auto r = coord({}, env);
  EXPECT_EQ(r.options.port, 8000);
  EXPECT_EQ(r.options.timeout, 9u);
  r = coord({"--port", "8001", "--timeout", "3"}, env);
  EXPECT_EQ(r.options.port, 8001);
  EXPECT_EQ(r.options.timeout, 3u);
}

TEST(CoordinatorOptions, ListensOnLoopbackUnlessToldOtherwise) {
  EXPECT_EQ(coord({}).options.listen, "127.0.0.1");
  EXPECT_EQ(coord({"--listen", "::"}).options.listen, "::");
  FakeEnv env{{{"CKPT_COORD_LISTEN", "0.0.0.0"}}};
  EXPECT_EQ(coord({}, env).options.listen, "0.0.0.0");
  auto r = coord({"--listen", "node1"});
  ASSERT_EQ(r.outcome, ParseOutcome::Error);
  EXPECT_EQ(r.error, "ckpt_coordinator: --listen: 'node1' is not a numeric IPv4 or IPv6 address");
}

TEST(CoordinatorOptions, InvalidInputIsOneLineError) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--port", "70000"},
                                                                {"--port", "x"},
                                                                {"--port"},
                                                                {"--interval", "-1"},
                                                                {"--timeout", "0"},
                                                                {"--bogus"},
                                                                {"--daemon=yes"},
                                                                {"extra"}}) {
    auto r = coord(args);
    EXPECT_EQ(r.outcome, ParseOutcome::Error) << args[0];
    EXPECT_EQ(r.error.rfind("ckpt_coordinator: ", 0), 0u) << r.error;
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  }
  auto r = coord({}, FakeEnv{{{"CKPT_COORD_PORT", "abc"}}});
  EXPECT_EQ(r.outcome, ParseOutcome::Error);
  EXPECT_EQ(r.error, "ckpt_coordinator: CKPT_COORD_PORT: 'abc' is not a port number (1-65535)");
  EXPECT_EQ(coord({}, FakeEnv{{{"CKPT_TIMEOUT", "soon"}}}).error, "ckpt_coordinator: CKPT_TIMEOUT: 'soon' is not a number");
  EXPECT_EQ(coord({"--port", "x"}).error, "ckpt_coordinator: --port: 'x' is not a port number (1-65535)");
  EXPECT_EQ(coord({"--bogus"}).error, "ckpt_coordinator: unknown option '--bogus' (try --help)");
  EXPECT_EQ(coord({"extra"}).error, "ckpt_coordinator: unexpected argument 'extra' (try --help)");
  EXPECT_EQ(coord({"--daemon=yes"}).error, "ckpt_coordinator: --daemon takes no value");
  EXPECT_EQ(coord({"--port"}).error, "ckpt_coordinator: --port needs a value");
  EXPECT_EQ(coord({"--timeout", "0"}).error, "ckpt_coordinator: --timeout: must be at least 1 second");
}

TEST(CoordinatorOptions, KeepCountsCommittedGenerationsFromOne) {
  EXPECT_EQ(coord({}).options.keep, 2u);
  EXPECT_EQ(coord({"--keep", "3"}).options.keep, 3u);
  EXPECT_EQ(coord({"--keep=1"}, FakeEnv{{{"CKPT_KEEP", "5"}}}).options.keep, 1u);
  EXPECT_EQ(coord({}, FakeEnv{{{"CKPT_KEEP", "5"}}}).options.keep, 5u);
  EXPECT_EQ(coord({"--keep", "0"}).error, "ckpt_coordinator: --keep: must be at least 1 (the generation in use)");
  EXPECT_EQ(coord({"--keep", "65"}).error, "ckpt_coordinator: --keep: '65' is out of range (at most 64)");
}

TEST(CoordinatorOptions, HelpAndVersion) {
  EXPECT_EQ(coord({"--help"}).outcome, ParseOutcome::Help);
  EXPECT_EQ(coord({"-h"}).outcome, ParseOutcome::Help) << "-h means nothing else here";
  EXPECT_EQ(coord({"--version"}).outcome, ParseOutcome::Version);
  const std::string usage = coordinator_usage();
  for (const char* word : {"--port", "CKPT_COORD_PORT", "--port-file", "--ckptdir", "--interval", "--timeout",
                           "CKPT_TIMEOUT", "--exit-on-last", "--daemon", "--log", "--version", "Exit status:"})
    EXPECT_NE(usage.find(word), std::string::npos) << word;
}

TEST(CoordinatorOptions, DmtcpSpellings) {
  auto r = coord({"-p", "7000", "-i", "9"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.error;
  EXPECT_EQ(r.options.port, 7000);
  EXPECT_EQ(r.options.interval, 9u);
  EXPECT_EQ(coord({"--coord-port=7001"}).options.port, 7001);
}

TEST(CommandOptions, ActionsAndDefaults) {
  auto r = command({"--status"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run);
  EXPECT_EQ(r.options.action, CommandAction::Status);
  EXPECT_EQ(r.options.host, "localhost");
  EXPECT_EQ(r.options.port, 7779);
  EXPECT_FALSE(r.options.json);

  EXPECT_EQ(command({"--checkpoint"}).options.action, CommandAction::Checkpoint);
  EXPECT_EQ(command({"--list"}).options.action, CommandAction::List);
  EXPECT_EQ(command({"--kill"}).options.action, CommandAction::Kill);
  EXPECT_EQ(command({"--quit"}).options.action, CommandAction::Quit);
  r = command({"--interval", "0", "--json", "--coord-host=h", "--coord-port", "1234"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.error;
  EXPECT_EQ(r.options.action, CommandAction::Interval);
  EXPECT_EQ(r.options.interval, 0u);
  EXPECT_TRUE(r.options.json);
  EXPECT_EQ(r.options.host, "h");
  EXPECT_EQ(r.options.port, 1234);
}

TEST(CommandOptions, EnvironmentTwinsYieldToFlags) {
  FakeEnv env{{{"CKPT_COORD_HOST", "node3"}, {"CKPT_COORD_PORT", "9000"}}};
  auto r = command({"--status"}, env);
  EXPECT_EQ(r.options.host, "node3");
  EXPECT_EQ(r.options.port, 9000);
  r = command({"--status", "--coord-host", "node4", "--coord-port=9001"}, env);
  EXPECT_EQ(r.options.host, "node4");
  EXPECT_EQ(r.options.port, 9001);
}

TEST(CommandOptions, InvalidInputIsOneLineError) {
  for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                {"--json"},
                                                                {"--status", "--list"},
                                                                {"--interval"},
                                                                {"--interval", "soon"},
                                                                {"--coord-port", "0", "--status"},
                                                                {"--status", "--nope"}}) {
    auto r = command(args);
    EXPECT_EQ(r.outcome, ParseOutcome::Error) << (args.empty() ? "(none)" : args[0]);
    EXPECT_EQ(r.error.rfind("ckpt_command: ", 0), 0u) << r.error;
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  }
  EXPECT_EQ(command({"--status", "--list"}).error, "ckpt_command: --status and --list cannot be combined");
  EXPECT_EQ(command({}).error, "ckpt_command: no action given (try --help)");
  EXPECT_EQ(command({"--status", "--nope"}).error, "ckpt_command: unknown option '--nope' (try --help)");
  EXPECT_EQ(command({"--interval", "soon"}).error, "ckpt_command: --interval: 'soon' is not a number");
  EXPECT_EQ(command({"--coord-port", "0", "--status"}).error,
            "ckpt_command: --coord-port: '0' is not a port number (1-65535)");
  EXPECT_EQ(command({"--status"}, FakeEnv{{{"CKPT_COORD_PORT", "abc"}}}).error,
            "ckpt_command: CKPT_COORD_PORT: 'abc' is not a port number (1-65535)");
}

TEST(CommandOptions, DmtcpSpellingsMeanTheSame) {
  EXPECT_EQ(command({"-s"}).options.action, CommandAction::Status);
  EXPECT_EQ(command({"-l"}).options.action, CommandAction::List);
  EXPECT_EQ(command({"-c"}).options.action, CommandAction::Checkpoint);
  EXPECT_EQ(command({"-bc"}).options.action, CommandAction::Checkpoint);
  EXPECT_EQ(command({"--bcheckpoint"}).options.action, CommandAction::Checkpoint);
  EXPECT_EQ(command({"-k"}).options.action, CommandAction::Kill);
  EXPECT_EQ(command({"-q"}).options.action, CommandAction::Quit);
  auto r = command({"-i", "5", "-h", "node5", "-p", "7100"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.error;
  EXPECT_EQ(r.options.action, CommandAction::Interval);
  EXPECT_EQ(r.options.interval, 5u);
  EXPECT_EQ(r.options.host, "node5");
  EXPECT_EQ(r.options.port, 7100);
  EXPECT_EQ(command({"-bc", "-s"}).error, "ckpt_command: --checkpoint and --status cannot be combined");
  EXPECT_EQ(command({"-c", "--checkpoint"}).options.action, CommandAction::Checkpoint) << "one action, twice";
}

TEST(CommandOptions, HelpAndVersion) {
  EXPECT_EQ(command({"--help"}).outcome, ParseOutcome::Help);
  EXPECT_EQ(command({"--version"}).outcome, ParseOutcome::Version);
  const std::string usage = command_usage();
  for (const char* word : {"-c, --checkpoint", "-s, --status", "-l, --list", "-i, --interval", "-k, --kill",
                           "-q, --quit", "-h, --coord-host", "-p, --coord-port", "CKPT_COORD_HOST", "--json",
                           "  3    no coordinator reachable"})
    EXPECT_NE(usage.find(word), std::string::npos) << word;
}

}  // namespace
}  // namespace ckpt::coord
