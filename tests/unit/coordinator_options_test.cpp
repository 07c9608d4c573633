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

TEST(CoordinatorOptions, EnvironmentTwinsYieldToFlags) {
  FakeEnv env{{{"CKPT_COORD_PORT", "8000"}, {"CKPT_TIMEOUT", "9"}}};
  auto r = coord({}, env);
  EXPECT_EQ(r.options.port, 8000);
  EXPECT_EQ(r.options.timeout, 9u);
  r = coord({"--port", "8001", "--timeout", "3"}, env);
  EXPECT_EQ(r.options.port, 8001);
  EXPECT_EQ(r.options.timeout, 3u);
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
  EXPECT_EQ(r.error, "ckpt_coordinator: CKPT_COORD_PORT: invalid value 'abc'");
}

TEST(CoordinatorOptions, Help) { EXPECT_EQ(coord({"--help"}).outcome, ParseOutcome::Help); }

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
}

}  // namespace
}  // namespace ckpt::coord
