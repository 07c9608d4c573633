#include "launch_options.h"
#include "launch_parse_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using ckpt::LaunchAction;
using ckpt::LaunchParse;

TEST(LaunchOptions, DefaultsWithoutFlagsOrEnvironment) {
  LaunchParse p = parse({"./app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.coord_host, "localhost");
  EXPECT_EQ(p.options.coord_port, 7779);
  EXPECT_EQ(p.options.ckptdir, "");
  EXPECT_EQ(p.options.interval, 0u);
  EXPECT_TRUE(p.options.compress);
  EXPECT_EQ(p.options.compress_threads, 0u);
  EXPECT_TRUE(p.options.fsync);
  EXPECT_FALSE(p.options.join);
  EXPECT_FALSE(p.options.new_coordinator);
  EXPECT_EQ(p.options.program, std::vector<std::string>{"./app"});
}

TEST(LaunchOptions, CompressThreadsAndPageCacheOnlyAreReadWithTheirTwins) {
  LaunchParse p = parse({"--compress-threads", "3", "--no-fsync", "./app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.compress_threads, 3u);
  EXPECT_FALSE(p.options.fsync);
  p = parse({"./app"}, Env{{{"CKPT_COMPRESS_THREADS", "1"}, {"CKPT_NO_FSYNC", "1"}}});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.compress_threads, 1u);
  EXPECT_FALSE(p.options.fsync);
  EXPECT_EQ(parse({"--compress-threads", "65", "./app"}).error,
            "ckpt_launch: --compress-threads: '65' is out of range (at most 64)");
  EXPECT_EQ(parse({"./app"}, Env{{{"CKPT_COMPRESS_THREADS", "many"}}}).error.rfind("ckpt_launch: CKPT_COMPRESS_THREADS: 'many'", 0),
            0u);
}

TEST(LaunchOptions, EveryFlagIsRead) {
  LaunchParse p = parse({"--coord-host", "node7", "--coord-port", "9000", "--ckptdir", "/ck", "--interval", "30",
                         "--no-compress", "--join", "./app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.coord_host, "node7");
  EXPECT_EQ(p.options.coord_port, 9000);
  EXPECT_EQ(p.options.ckptdir, "/ck");
  EXPECT_EQ(p.options.interval, 30u);
  EXPECT_FALSE(p.options.compress);
  EXPECT_TRUE(p.options.join);
}

// A computation on several hosts: the host this process is named after, and
// the remote shell whose commands join the computation.
TEST(LaunchOptions, HostNameAndRemoteShell) {
  LaunchParse p = parse({"--host-name", "node2", "--rsh", "ip netns exec", "./app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.host_name, "node2");
  EXPECT_EQ(p.options.rsh, "ip netns exec");
  p = parse({"./app"}, Env{{{"CKPT_HOST_NAME", "node3"}, {"CKPT_RSH", "rsh"}}});
  EXPECT_EQ(p.options.host_name, "node3");
  EXPECT_EQ(p.options.rsh, "rsh");
  p = parse({"./app"});
  EXPECT_EQ(p.options.host_name, "");
  EXPECT_EQ(p.options.rsh, "");
  p = parse({"--host-name", "a b", "./app"});
  EXPECT_EQ(p.action, LaunchAction::Error);
  EXPECT_EQ(p.error, "ckpt_launch: --host-name: 'a b' is not a host name (no spaces, quotes, '/' or ':')");
}

TEST(LaunchOptions, KeepGoesToTheCoordinatorItStarts) {
  EXPECT_EQ(parse({"./app"}).options.keep, 0u) << "the coordinator's default";
  EXPECT_EQ(parse({"--keep", "3", "./app"}).options.keep, 3u);
  EXPECT_EQ(parse({"./app"}, Env{{{"CKPT_KEEP", "4"}}}).options.keep, 4u);
  EXPECT_EQ(parse({"--keep", "0", "./app"}).action, LaunchAction::Error);
}

TEST(LaunchOptions, IncrementalImagesAreOnByDefaultWithAFullOneEveryEight) {
  EXPECT_TRUE(parse({"./app"}).options.incremental);
  EXPECT_EQ(parse({"./app"}).options.full_every, 8u);
  EXPECT_FALSE(parse({"--no-incremental", "./app"}).options.incremental);
  EXPECT_FALSE(parse({"./app"}, Env{{{"CKPT_NO_INCREMENTAL", "1"}}}).options.incremental);
  EXPECT_EQ(parse({"--full-every", "3", "./app"}).options.full_every, 3u);
  EXPECT_EQ(parse({"./app"}, Env{{{"CKPT_FULL_EVERY", "5"}}}).options.full_every, 5u);
  LaunchParse zero = parse({"--full-every", "0", "./app"});
  EXPECT_EQ(zero.action, LaunchAction::Error);
  EXPECT_EQ(zero.error, "ckpt_launch: --full-every: must be at least 1");
  LaunchParse big = parse({"--full-every=1001", "./app"});
  EXPECT_EQ(big.error, "ckpt_launch: --full-every: '1001' is out of range (at most 1000)");
}

TEST(LaunchOptions, FlagValuesMayFollowAnEqualsSign) {
  LaunchParse p = parse({"--coord-port=9001", "--interval=5", "app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.coord_port, 9001);
  EXPECT_EQ(p.options.interval, 5u);
}

TEST(LaunchOptions, EveryEnvironmentTwinIsRead) {
  Env env{{{"CKPT_COORD_HOST", "node8"},
           {"CKPT_COORD_PORT", "9100"},
           {"CKPT_DIR", "/env/dir"},
           {"CKPT_INTERVAL", "12"},
           {"CKPT_NO_COMPRESS", "1"},
           {"CKPT_NEW_COORDINATOR", "1"}}};
  LaunchParse p = parse({"app"}, env);
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.coord_host, "node8");
  EXPECT_EQ(p.options.coord_port, 9100);
  EXPECT_EQ(p.options.ckptdir, "/env/dir");
  EXPECT_EQ(p.options.interval, 12u);
  EXPECT_FALSE(p.options.compress);
  EXPECT_TRUE(p.options.new_coordinator);
  EXPECT_TRUE(parse({"app"}, Env{{{"CKPT_JOIN", "1"}}}).options.join);
}

TEST(LaunchOptions, FlagsOverrideTheirEnvironmentTwins) {
  Env env{{{"CKPT_COORD_HOST", "envhost"}, {"CKPT_COORD_PORT", "1"}, {"CKPT_DIR", "/env"}, {"CKPT_INTERVAL", "7"}}};
  LaunchParse p = parse({"--coord-host", "flaghost", "--coord-port", "2", "--ckptdir", "/flag", "--interval", "8",
                         "app"},
                        env);
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.coord_host, "flaghost");
  EXPECT_EQ(p.options.coord_port, 2);
  EXPECT_EQ(p.options.ckptdir, "/flag");
  EXPECT_EQ(p.options.interval, 8u);
}

TEST(LaunchOptions, BadEnvironmentValueIsIgnoredWhenItsFlagOverridesIt) {
  LaunchParse p = parse({"--interval", "3", "app"}, Env{{{"CKPT_INTERVAL", "soon"}}});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.interval, 3u);
}

TEST(LaunchOptions, EnvironmentFlagZeroMeansOff) {
  LaunchParse p = parse({"app"}, Env{{{"CKPT_NO_COMPRESS", "0"}, {"CKPT_JOIN", "0"}}});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_TRUE(p.options.compress);
  EXPECT_FALSE(p.options.join);
}

TEST(LaunchOptions, NonNumericIntervalIsAOneLineUsageError) {
  LaunchParse p = parse({"--interval", "abc", "app"});
  EXPECT_EQ(p.action, LaunchAction::Error);
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.error, "ckpt_launch: --interval: 'abc' is not a number");
}

TEST(LaunchOptions, BadEnvironmentValueNamesTheVariable) {
  LaunchParse p = parse({"app"}, Env{{{"CKPT_COORD_PORT", "12x"}}});
  EXPECT_EQ(p.action, LaunchAction::Error);
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.error, "ckpt_launch: CKPT_COORD_PORT: '12x' is not a port number (1-65535)");
  p = parse({"app"}, Env{{{"CKPT_NO_COMPRESS", "maybe"}}});
  EXPECT_EQ(p.error, "ckpt_launch: CKPT_NO_COMPRESS: 'maybe' is not a boolean (use 1 or 0)");
}

TEST(LaunchOptions, PortOutOfRangeIsRejected) {
  for (const char* bad : {"65536", "99999999999999999999999", "-1", ""}) {
    LaunchParse p = parse({"--coord-port", bad, "app"});
    EXPECT_EQ(p.action, LaunchAction::Error) << bad;
    EXPECT_EQ(p.exit_code, 2) << bad;
  }
  EXPECT_EQ(parse({"--coord-port", "65536", "app"}).error,
            "ckpt_launch: --coord-port: '65536' is not a port number (1-65535)");
}

TEST(LaunchOptions, PortZeroNeedsANewCoordinator) {
  EXPECT_EQ(parse({"--coord-port", "0", "app"}).error,
            "ckpt_launch: --coord-port: port 0 (any free port) needs --new-coordinator");
  LaunchParse p = parse({"--new-coordinator", "--coord-port", "0", "app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.coord_port, 0);
}

TEST(LaunchOptions, JoinAndNewCoordinatorExcludeEachOther) {
  LaunchParse p = parse({"--join", "--new-coordinator", "app"});
  EXPECT_EQ(p.action, LaunchAction::Error);
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.error, "ckpt_launch: --join and --new-coordinator exclude each other");
  p = parse({"app"}, Env{{{"CKPT_JOIN", "1"}, {"CKPT_NEW_COORDINATOR", "1"}}});
  EXPECT_EQ(p.action, LaunchAction::Error);
}

TEST(LaunchOptions, ModeFlagOverridesTheOtherModesVariable) {
  LaunchParse p = parse({"--new-coordinator", "app"}, Env{{{"CKPT_JOIN", "1"}}});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_TRUE(p.options.new_coordinator);
  EXPECT_FALSE(p.options.join);
}

TEST(LaunchOptions, UnknownOptionAndMissingValueAreUsageErrors) {
  LaunchParse p = parse({"--frobnicate", "app"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.error, "ckpt_launch: unknown option '--frobnicate' (try --help)");
  p = parse({"--ckptdir"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.error, "ckpt_launch: --ckptdir needs a value");
  p = parse({"--join=1", "app"});
  EXPECT_EQ(p.error, "ckpt_launch: --join takes no value");
}

TEST(LaunchOptions, MissingProgramExitsLikeAShell) {
  LaunchParse p = parse({"--interval", "1"});
  EXPECT_EQ(p.action, LaunchAction::Error);
  EXPECT_EQ(p.exit_code, 127);
}

TEST(LaunchOptions, OptionsEndAtTheProgramAndItsArgumentsAreKept) {
  LaunchParse p = parse({"--interval", "1", "app", "--interval", "x", "--help"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.program, (std::vector<std::string>{"app", "--interval", "x", "--help"}));
}

TEST(LaunchOptions, DoubleDashEndsOptions) {
  LaunchParse p = parse({"--", "--weird-name", "a"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.program, (std::vector<std::string>{"--weird-name", "a"}));
}

TEST(LaunchOptions, HelpAndVersionWinOverMissingProgram) {
  EXPECT_EQ(parse({"--help"}).action, LaunchAction::Help);
  EXPECT_EQ(parse({"--version"}).action, LaunchAction::Version);
  EXPECT_EQ(parse({"--interval", "1", "--version"}).action, LaunchAction::Version);
}

TEST(LaunchOptions, DmtcpSpellingsMeanTheSame) {
  // dmtcp_launch -j -i N -p PORT -h HOST: -h is the host here, not help.
  LaunchParse p = parse({"-j", "-i", "5", "-p", "9000", "-h", "node9", "app", "-h"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_TRUE(p.options.join);
  EXPECT_EQ(p.options.interval, 5u);
  EXPECT_EQ(p.options.coord_port, 9000);
  EXPECT_EQ(p.options.coord_host, "node9");
  EXPECT_EQ(p.options.program, (std::vector<std::string>{"app", "-h"}));
  p = parse({"--join-coordinator", "--no-gzip", "-i7", "app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_TRUE(p.options.join);
  EXPECT_FALSE(p.options.compress);
  EXPECT_EQ(p.options.interval, 7u);
  EXPECT_EQ(parse({"-h"}).error, "ckpt_launch: --coord-host needs a value");
}

TEST(LaunchOptions, AcceptLossIsAFlagWithABooleanTwin) {
  EXPECT_FALSE(parse({"app"}).options.accept_loss);
  EXPECT_TRUE(parse({"--accept-loss", "app"}).options.accept_loss);
  EXPECT_TRUE(parse({"app"}, Env{{{"CKPT_ACCEPT_LOSS", "1"}}}).options.accept_loss);
  EXPECT_FALSE(parse({"app"}, Env{{{"CKPT_ACCEPT_LOSS", "0"}}}).options.accept_loss);
  EXPECT_TRUE(parse({"--accept-loss", "app"}, Env{{{"CKPT_ACCEPT_LOSS", "0"}}}).options.accept_loss);
  EXPECT_EQ(parse({"app"}, Env{{{"CKPT_ACCEPT_LOSS", "sure"}}}).error,
            "ckpt_launch: CKPT_ACCEPT_LOSS: 'sure' is not a boolean (use 1 or 0)");
  EXPECT_EQ(parse({"--accept-loss=1", "app"}).error, "ckpt_launch: --accept-loss takes no value");
}

TEST(LaunchOptions, RepeatedOptionTakesTheLastValue) {
  LaunchParse p = parse({"--interval", "1", "-i", "2", "app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.interval, 2u);
}

TEST(LaunchOptions, IntervalIsBoundedAsTheCoordinatorBoundsIt) {
  EXPECT_EQ(parse({"--interval", "100000001", "app"}).error,
            "ckpt_launch: --interval: '100000001' is out of range (at most 100000000)");
}

TEST(LaunchOptions, HelpDocumentsEveryOptionAndItsEnvironmentTwin) {
  const std::string usage = ckpt::launch_usage();
  for (const char* word : {"--coord-host", "CKPT_COORD_HOST", "--coord-port", "CKPT_COORD_PORT", "--ckptdir",
                           "CKPT_DIR", "--interval", "CKPT_INTERVAL", "--no-compress", "CKPT_NO_COMPRESS", "--join",
                           "CKPT_JOIN", "--new-coordinator", "CKPT_NEW_COORDINATOR", "--file-policy",
                           "--file-policy-file", "CKPT_FILE_POLICY", "--accept-loss", "CKPT_ACCEPT_LOSS",
                           "--compress-threads", "CKPT_COMPRESS_THREADS", "--no-fsync", "CKPT_NO_FSYNC", "--help",
                           "--version", "-h, --coord-host", "-p, --coord-port", "-j, --join", "-i, --interval",
                           "Exit status:", "  3    no coordinator reachable", "  127  "}) {
    EXPECT_NE(usage.find(word), std::string::npos) << word;
  }
}

TEST(LaunchOptions, FilePoliciesAreKeptInOrderOnePerLine) {
  LaunchParse p = parse({"--file-policy", "/scratch/*=ignore", "--file-policy=*.log=append", "./app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.file_policy, "/scratch/*=ignore\n*.log=append\n");
  EXPECT_EQ(parse({"./app"}).options.file_policy, "");
}

TEST(LaunchOptions, BadFilePolicyIsOneLineError) {
  LaunchParse p = parse({"--file-policy", "/data/*=sideways", "./app"});
  ASSERT_EQ(p.action, LaunchAction::Error);
  EXPECT_EQ(p.exit_code, ckpt::cli::kExitUsage);
  EXPECT_EQ(p.error,
            "ckpt_launch: --file-policy: '/data/*=sideways': unknown policy (use merge, ignore, append, replace or "
            "substitute)");
  EXPECT_EQ(parse({"--file-policy", "/data/*", "./app"}).error,
            "ckpt_launch: --file-policy: '/data/*': expected GLOB=POLICY");
  EXPECT_NE(parse({"--file-policy", "/data/[ab=merge", "./app"}).error.find("malformed glob"), std::string::npos);
  EXPECT_EQ(parse({"--file-policy", "/a\nb=merge", "./app"}).action, LaunchAction::Error) << "a newline in a glob";
  EXPECT_EQ(parse({"--file-policy"}).error, "ckpt_launch: --file-policy needs a value");
}

TEST(LaunchOptions, FilePolicyEnvironmentIsCheckedAndOverriddenByFlags) {
  Env env;
  env.vars["CKPT_FILE_POLICY"] = "*.dat=replace\n# comment\n*.log=append";
  LaunchParse p = parse({"./app"}, env);
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.file_policy, "*.dat=replace\n*.log=append\n");
  p = parse({"--file-policy", "*=ignore", "./app"}, env);
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.file_policy, "*=ignore\n");
  env.vars["CKPT_FILE_POLICY"] = "*.dat=replace\n*.log=Append";
  EXPECT_EQ(parse({"./app"}, env).error,
            "ckpt_launch: CKPT_FILE_POLICY: line 2: '*.log=Append': unknown policy (use merge, ignore, append, replace "
            "or substitute)");
}

TEST(LaunchOptions, FilePolicyFilesAreReadInPlace) {
  char tmpl[] = "/tmp/ckpt_policy_XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::string path = tmpl;
  std::ofstream(path) << "# rules for the test\n\n  /in/*.dat = substitute\n/out/*=append\n";
  LaunchParse p = parse({"--file-policy", "/in/keep.dat=merge", "--file-policy-file", path, "--file-policy",
                         "*=ignore", "./app"});
  EXPECT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.file_policy, "/in/keep.dat=merge\n  /in/*.dat = substitute\n/out/*=append\n*=ignore\n");

  std::ofstream(path) << "/in/*.dat=substitute\n/out/*=appendd\n";
  EXPECT_EQ(parse({"--file-policy-file", path, "./app"}).error,
            "ckpt_launch: --file-policy-file " + path +
                ": line 2: '/out/*=appendd': unknown policy (use merge, ignore, append, replace or substitute)");
  std::remove(path.c_str());
  EXPECT_EQ(parse({"--file-policy-file", path, "./app"}).error,
            "ckpt_launch: --file-policy-file: cannot read '" + path + "': No such file or directory");
}

// A file that never ends made ckpt_launch read until memory ran out (seen
// while writing the option fuzzer, whose dictionary now names /dev/zero).
TEST(LaunchOptions, EndlessFilePolicyFileIsRefused) {
  EXPECT_EQ(parse({"--file-policy-file", "/dev/zero", "./app"}).error,
            "ckpt_launch: --file-policy-file: cannot read '/dev/zero': File too large");
}

TEST(LaunchOptions, TooManyFilePoliciesAreRefused) {
  std::vector<std::string> args;
  for (int i = 0; i <= 256; ++i) {
    args.push_back("--file-policy");
    args.push_back("/f" + std::to_string(i) + "=ignore");
  }
  args.push_back("./app");
  LaunchParse p = parse(args);
  ASSERT_EQ(p.action, LaunchAction::Error);
  EXPECT_NE(p.error.find("more than 256 rules"), std::string::npos) << p.error;
}

class ResolveProgram : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt_resolve_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    write_file("tool", 0755);
    write_file("data", 0644);
  }
  void TearDown() override {
    std::remove((dir_ + "/tool").c_str());
    std::remove((dir_ + "/data").c_str());
    ::rmdir(dir_.c_str());
  }
  void write_file(const std::string& name, mode_t mode) {
    std::ofstream(dir_ + "/" + name) << "#!/bin/sh\n";
    ::chmod((dir_ + "/" + name).c_str(), mode);
  }
  std::string dir_;
};

TEST_F(ResolveProgram, NameIsSearchedInPath) {
  std::string error;
  const std::string path = "/nonexistent:" + dir_;
  EXPECT_EQ(ckpt::resolve_program("tool", path.c_str(), error), dir_ + "/tool");
}

TEST_F(ResolveProgram, NameNotInPathIsCommandNotFound) {
  std::string error;
  EXPECT_EQ(ckpt::resolve_program("ckpt-no-such-tool", dir_.c_str(), error), "");
  EXPECT_EQ(error, "ckpt-no-such-tool: command not found");
}

TEST_F(ResolveProgram, NonExecutableFilesAreNotPrograms) {
  // Root may execute anything with an x bit, but not a file without any.
  std::string error;
  EXPECT_EQ(ckpt::resolve_program("data", dir_.c_str(), error), "");
  EXPECT_EQ(ckpt::resolve_program(dir_ + "/data", nullptr, error), "");
  EXPECT_EQ(error, dir_ + "/data: not an executable file");
  EXPECT_EQ(ckpt::resolve_program(dir_, nullptr, error), "") << "a directory is not a program";
}

TEST_F(ResolveProgram, PathWithSlashIsTakenAsIs) {
  std::string error;
  EXPECT_EQ(ckpt::resolve_program(dir_ + "/tool", "", error), dir_ + "/tool");
  EXPECT_EQ(ckpt::resolve_program(dir_ + "/missing", nullptr, error), "");
  EXPECT_EQ(error, dir_ + "/missing: no such file");
}

TEST(LaunchOptions, DmtcpCompatibilityOptionsAndTheirTwins) {
  LaunchParse p = parse({"--tmpdir", "/scratch", "--modify-env", "--with-plugin", "a.so:/opt/b.so", "--preload",
                         "c.so", "./app"});
  ASSERT_EQ(p.action, LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.tmpdir, "/scratch");
  EXPECT_TRUE(p.options.modify_env);
  EXPECT_EQ(p.options.preload, (std::vector<std::string>{"a.so", "/opt/b.so", "c.so"}));
  Env env;
  env.vars = {{"CKPT_TMPDIR", "/t"}, {"CKPT_MODIFY_ENV", "1"}};
  LaunchParse q = parse({"./app"}, env);
  ASSERT_EQ(q.action, LaunchAction::Run) << q.error;
  EXPECT_EQ(q.options.tmpdir, "/t");
  EXPECT_TRUE(q.options.modify_env);
}

TEST(LaunchOptions, PreloadRefusesAnEmptyLibraryName) {
  LaunchParse p = parse({"--preload", "a.so::b.so", "./app"});
  EXPECT_EQ(p.action, LaunchAction::Error);
  EXPECT_NE(p.error.find("an empty library name"), std::string::npos) << p.error;
}

}  // namespace
