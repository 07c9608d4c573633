#include "restart_options.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace {

using ckpt::RestartParse;

ckpt::RestartParse parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "ckpt_restart");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return ckpt::parse_restart_options(static_cast<int>(argv.size()), argv.data(), [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(RestartOptions, TakesEveryImageInOrder) {
  RestartParse p = parse({"a.ckpt", "--no-verify", "b.ckpt", "c.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.images, (std::vector<std::string>{"a.ckpt", "b.ckpt", "c.ckpt"}));
  EXPECT_FALSE(p.options.check_data);
}

TEST(RestartOptions, PluginsComeFromTheEnvironmentFirstThenTheCommandLine) {
  RestartParse p = parse({"--plugin", "/opt/c.so", "x.ckpt", "--plugin=/opt/d.so"},
                         {{"CKPT_RESTART_PLUGINS", "/opt/a.so::/opt/b.so"}});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.plugins, (std::vector<std::string>{"/opt/a.so", "/opt/b.so", "/opt/c.so", "/opt/d.so"}));
}

TEST(RestartOptions, RelocateIsRepeatableInBothSpellings) {
  RestartParse p = parse({"--relocate", "/old=/new", "--relocate=/data/in=/scratch/in", "x.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  ASSERT_EQ(p.options.relocations.size(), 2u);
  EXPECT_EQ(p.options.relocations[0], (std::pair<std::string, std::string>("/old", "/new")));
  EXPECT_EQ(p.options.relocations[1], (std::pair<std::string, std::string>("/data/in", "/scratch/in")));
}

TEST(RestartOptions, RelocateRefusesMissingEqualsAndRelativePaths) {
  for (const char* bad : {"/old", "old=/new", "/old=new", "=/new", "/old="}) {
    RestartParse p = parse({"--relocate", bad, "x.ckpt"});
    EXPECT_EQ(p.action, ckpt::cli::Outcome::Error) << bad;
    EXPECT_NE(p.error.find("--relocate"), std::string::npos) << p.error;
  }
  EXPECT_EQ(parse({"x.ckpt", "--relocate"}).action, ckpt::cli::Outcome::Error);
}

TEST(RestartOptions, RunOnFailKeepsTheWholeCommand) {
  RestartParse p = parse({"--run-on-fail", "echo failed >&2; exit 3", "x.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.run_on_fail, "echo failed >&2; exit 3");
  EXPECT_EQ(parse({"x.ckpt", "--run-on-fail"}).action, ckpt::cli::Outcome::Error);
  EXPECT_EQ(parse({"--run-on-fail=", "x.ckpt"}).action, ckpt::cli::Outcome::Error);
}

TEST(RestartOptions, NeedsAnImage) {
  RestartParse p = parse({"--relocate", "/a=/b"});
  EXPECT_EQ(p.action, ckpt::cli::Outcome::Error);
  EXPECT_EQ(p.error, "ckpt_restart: no image given (try --help)");
}

TEST(RestartOptions, HelpMentionsTheNewOptions) {
  EXPECT_NE(ckpt::restart_usage().find("--relocate OLD=NEW"), std::string::npos);
  EXPECT_NE(ckpt::restart_usage().find("--run-on-fail CMD"), std::string::npos);
  EXPECT_NE(ckpt::restart_usage().find("  3    no coordinator reachable"), std::string::npos);
}

TEST(RestartOptions, HelpAndVersionNeedNoImage) {
  EXPECT_EQ(parse({"--help"}).action, ckpt::cli::Outcome::Help);
  EXPECT_EQ(parse({"--version"}).action, ckpt::cli::Outcome::Version);
}

TEST(RestartOptions, DefaultsAndEveryFlag) {
  RestartParse p = parse({"x.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.coord_host, "localhost");
  EXPECT_EQ(p.options.coord_port, 7779);
  EXPECT_TRUE(p.options.restore_pids);
  EXPECT_TRUE(p.options.check_data);
  EXPECT_FALSE(p.options.verify_only);
  EXPECT_FALSE(p.options.info);
  p = parse({"--no-restore-pids", "--info", "--json", "--ckptdir=/ck", "--new-coordinator", "--verify", "x.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_FALSE(p.options.restore_pids);
  EXPECT_TRUE(p.options.verify_only);
  EXPECT_TRUE(p.options.info);
  EXPECT_TRUE(p.options.json);
  EXPECT_EQ(p.options.ckptdir, "/ck");
  EXPECT_TRUE(p.options.new_coordinator);
}

TEST(RestartOptions, EnvironmentTwinsYieldToFlags) {
  std::map<std::string, std::string> env{{"CKPT_COORD_HOST", "envhost"},
                                         {"CKPT_COORD_PORT", "9100"},
                                         {"CKPT_JOIN", "1"},
                                         {"CKPT_RESTART_DIR", "/env"}};
  RestartParse p = parse({"x.ckpt"}, env);
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.coord_host, "envhost");
  EXPECT_EQ(p.options.coord_port, 9100);
  EXPECT_TRUE(p.options.join);
  EXPECT_EQ(p.options.ckptdir, "/env");
  p = parse({"--coord-host", "flag", "--coord-port", "9200", "--new-coordinator", "--ckptdir", "/flag", "x.ckpt"}, env);
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.coord_host, "flag");
  EXPECT_EQ(p.options.coord_port, 9200);
  EXPECT_FALSE(p.options.join);
  EXPECT_TRUE(p.options.new_coordinator);
  EXPECT_EQ(p.options.ckptdir, "/flag");
}

TEST(RestartOptions, DmtcpSpellingsMeanTheSame) {
  RestartParse p = parse({"-j", "-h", "node2", "-p", "7200", "x.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_TRUE(p.options.join);
  EXPECT_EQ(p.options.coord_host, "node2");
  EXPECT_EQ(p.options.coord_port, 7200);
}

TEST(RestartOptions, BadValuesAreWordedAsInEveryTool) {
  EXPECT_EQ(parse({"x.ckpt"}, {{"CKPT_COORD_PORT", "abc"}}).error,
            "ckpt_restart: CKPT_COORD_PORT: 'abc' is not a port number (1-65535)");
  EXPECT_EQ(parse({"x.ckpt"}, {{"CKPT_JOIN", "maybe"}}).error,
            "ckpt_restart: CKPT_JOIN: 'maybe' is not a boolean (use 1 or 0)");
  EXPECT_EQ(parse({"--frob", "x.ckpt"}).error, "ckpt_restart: unknown option '--frob' (try --help)");
  EXPECT_EQ(parse({"--join", "--new-coordinator", "x.ckpt"}).error,
            "ckpt_restart: --join and --new-coordinator exclude each other");
  EXPECT_EQ(parse({"x.ckpt", "--ckptdir"}).error, "ckpt_restart: --ckptdir needs a value");
  EXPECT_EQ(parse({"--relocate"}).error, "ckpt_restart: --relocate needs a value");
}

TEST(RestartOptions, DoubleDashEndsOptions) {
  RestartParse p = parse({"--no-verify", "--", "--odd.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.images, std::vector<std::string>{"--odd.ckpt"});
}

}  // namespace
