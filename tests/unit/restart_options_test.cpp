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
  ASSERT_EQ(p.action, RestartParse::Run) << p.error;
  EXPECT_EQ(p.options.images, (std::vector<std::string>{"a.ckpt", "b.ckpt", "c.ckpt"}));
  EXPECT_FALSE(p.options.verify);
}

TEST(RestartOptions, RelocateIsRepeatableInBothSpellings) {
  RestartParse p = parse({"--relocate", "/old=/new", "--relocate=/data/in=/scratch/in", "x.ckpt"});
  ASSERT_EQ(p.action, RestartParse::Run) << p.error;
  ASSERT_EQ(p.options.relocations.size(), 2u);
  EXPECT_EQ(p.options.relocations[0], (std::pair<std::string, std::string>("/old", "/new")));
  EXPECT_EQ(p.options.relocations[1], (std::pair<std::string, std::string>("/data/in", "/scratch/in")));
}

TEST(RestartOptions, RelocateRefusesMissingEqualsAndRelativePaths) {
  for (const char* bad : {"/old", "old=/new", "/old=new", "=/new", "/old="}) {
    RestartParse p = parse({"--relocate", bad, "x.ckpt"});
    EXPECT_EQ(p.action, RestartParse::Error) << bad;
    EXPECT_NE(p.error.find("--relocate"), std::string::npos) << p.error;
  }
  EXPECT_EQ(parse({"x.ckpt", "--relocate"}).action, RestartParse::Error);
}

TEST(RestartOptions, RunOnFailKeepsTheWholeCommand) {
  RestartParse p = parse({"--run-on-fail", "echo failed >&2; exit 3", "x.ckpt"});
  ASSERT_EQ(p.action, RestartParse::Run) << p.error;
  EXPECT_EQ(p.options.run_on_fail, "echo failed >&2; exit 3");
  EXPECT_EQ(parse({"x.ckpt", "--run-on-fail"}).action, RestartParse::Error);
  EXPECT_EQ(parse({"--run-on-fail=", "x.ckpt"}).action, RestartParse::Error);
}

TEST(RestartOptions, NeedsAnImage) {
  RestartParse p = parse({"--relocate", "/a=/b"});
  EXPECT_EQ(p.action, RestartParse::Error);
  EXPECT_NE(p.error.find("no image"), std::string::npos);
}

TEST(RestartOptions, HelpMentionsTheNewOptions) {
  EXPECT_NE(ckpt::restart_usage().find("--relocate OLD=NEW"), std::string::npos);
  EXPECT_NE(ckpt::restart_usage().find("--run-on-fail CMD"), std::string::npos);
}

}  // namespace
