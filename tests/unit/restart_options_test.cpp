#include "restart_options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "ckpt/restart.h"
#include "restart_hosts.h"

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

TEST(RestartOptions, LazyUnlessNoLazyOnTheCommandLineOrInTheEnvironment) {
  EXPECT_TRUE(parse({"x.ckpt"}).options.lazy);
  EXPECT_FALSE(parse({"--no-lazy", "x.ckpt"}).options.lazy);
  EXPECT_FALSE(parse({"x.ckpt"}, {{"CKPT_RESTART_NO_LAZY", "1"}}).options.lazy);
  EXPECT_TRUE(parse({"x.ckpt"}, {{"CKPT_RESTART_NO_LAZY", "0"}}).options.lazy);
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

// A computation on several hosts (restart_hosts.h): the options, the host
// map, and the command each host's share runs.

using Map = std::vector<std::pair<std::string, std::string>>;

TEST(RestartHosts, ImagesNameTheirHostAsTheScriptWritesThem) {
  RestartParse p = parse({"node1:/ck/a.ckpt", "/ck/b.ckpt", "rel/c:/d.ckpt", "node2:/ck/e.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.images, (std::vector<std::string>{"/ck/a.ckpt", "/ck/b.ckpt", "rel/c:/d.ckpt", "/ck/e.ckpt"}));
  EXPECT_EQ(p.options.image_hosts, (std::vector<std::string>{"node1", "", "", "node2"}));
  EXPECT_TRUE(ckpt::restart_spans_hosts(p.options));
  EXPECT_FALSE(ckpt::restart_spans_hosts(parse({"/ck/a.ckpt", "/ck/b.ckpt"}).options));
}

TEST(RestartHosts, HostMapFromOptionsAndFileInOrder) {
  char path[] = "/tmp/ckpt_hostfile.XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "# moved\n\n  node2 node5\nnode3=node6\r\n";
  RestartParse p = parse({"--host", "node1=node4", "--hostfile", path, "x.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_TRUE(p.options.host_map_given);
  EXPECT_EQ(p.options.host_map, (Map{{"node1", "node4"}, {"node2", "node5"}, {"node3", "node6"}}));
  EXPECT_TRUE(ckpt::restart_spans_hosts(p.options));

  std::ofstream(path) << "node2 node5\nnode2=node7\n";
  p = parse({"--hostfile", path, "x.ckpt"});
  EXPECT_EQ(p.action, ckpt::cli::Outcome::Error);
  EXPECT_EQ(p.error, std::string("ckpt_restart: ") + path + ": line 2: host node2 is mapped twice");
  std::remove(path);
  p = parse({"--hostfile", path, "x.ckpt"});
  EXPECT_EQ(p.error, std::string("ckpt_restart: --hostfile: cannot read '") + path + "'");
}

TEST(RestartHosts, BadHostMapsAreUsageErrors) {
  for (const char* bad : {"node1", "=node2", "node1=", "node1=a b", "a/b=node2", "node1=x:y"}) {
    RestartParse p = parse({"--host", bad, "x.ckpt"});
    EXPECT_EQ(p.action, ckpt::cli::Outcome::Error) << bad;
    EXPECT_EQ(p.error.rfind("ckpt_restart: --host: ", 0), 0u) << p.error;
  }
  RestartParse p = parse({"--host-name", std::string(64, 'n'), "x.ckpt"});
  EXPECT_EQ(p.error, "ckpt_restart: --host-name: '" + std::string(64, 'n') + "' is longer than 63 bytes");
  p = parse({"x.ckpt"}, {{"CKPT_RSH", " "}});
  EXPECT_EQ(p.error, "ckpt_restart: CKPT_RSH: empty value");
}

TEST(RestartHosts, SharesGroupImagesByHostAndFollowTheMap) {
  ckpt::RestartOptions opt = parse({"a:/1.ckpt", "b:/2.ckpt", "a:/3.ckpt", "c:/4.ckpt"}).options;
  std::vector<ckpt::HostShare> shares = ckpt::plan_host_shares(opt, opt.image_hosts);
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_EQ(shares[0].from, "a");
  EXPECT_EQ(shares[0].to, "a");
  EXPECT_EQ(shares[0].images, (std::vector<std::string>{"/1.ckpt", "/3.ckpt"}));
  EXPECT_EQ(shares[2].images, (std::vector<std::string>{"/4.ckpt"}));

  opt.host_map = {{"a", "z"}, {"b", "z"}, {"c", "a"}};
  opt.host_map_given = true;
  shares = ckpt::plan_host_shares(opt, opt.image_hosts);
  EXPECT_EQ(shares[0].to, "z");
  EXPECT_EQ(shares[1].to, "z");
  EXPECT_EQ(shares[2].to, "a");
}

TEST(RestartHosts, HostMissingFromTheMapIsOneLine) {
  ckpt::RestartOptions opt = parse({"--host", "a=b", "a:/1.ckpt", "c:/2.ckpt", "c:/3.ckpt"}).options;
  try {
    ckpt::plan_host_shares(opt, opt.image_hosts);
    FAIL() << "no error";
  } catch (const ckpt::RestartError& e) {
    EXPECT_STREQ(e.what(), "host c is not in the host map (--host/--hostfile), and 2 of the images are of processes "
                           "that ran there (/2.ckpt, ...)");
  }
}

TEST(RestartHosts, ShareCommandJoinsTheCoordinatorThroughTheRemoteShell) {
  ckpt::RestartOptions opt =
      parse({"--rsh", "ip netns exec", "--ckptdir", "/ck2", "--no-restore-pids", "--relocate", "/a=/b", "x.ckpt"})
          .options;
  const ckpt::ShareJoin join{"/opt/ckpt/bin/ckpt_restart", "10.0.0.1", 7779, "/home/u/.secret"};
  const ckpt::HostShare share{"node1", "node2", {"/ck/1.ckpt", "/ck/2.ckpt"}};
  EXPECT_EQ(ckpt::share_command(share, opt, join, "node9"),
            (std::vector<std::string>{"ip", "netns", "exec", "node2", "/opt/ckpt/bin/ckpt_restart", "--join",
                                      "--coord-host", "10.0.0.1", "--coord-port", "7779", "--secret-file",
                                      "/home/u/.secret", "--host-name", "node2", "--host-share", "--ckptdir", "/ck2",
                                      "--relocate", "/a=/b", "--no-restore-pids", "/ck/1.ckpt", "/ck/2.ckpt"}));
  // This host's share runs here, without the remote shell; ssh by default.
  EXPECT_EQ(ckpt::share_command(share, opt, join, "node2").front(), "/opt/ckpt/bin/ckpt_restart");
  EXPECT_EQ(ckpt::share_command(share, parse({"x.ckpt"}).options, join, "node9").front(), "ssh");
}

TEST(RestartHosts, ShareCommandRefusesWhatAnotherHostCannotUse) {
  const ckpt::RestartOptions opt = parse({"x.ckpt"}).options;
  const ckpt::HostShare share{"node1", "node2", {"/ck/my image.ckpt"}};
  ckpt::ShareJoin join{"/opt/ckpt/bin/ckpt_restart", "10.0.0.1", 7779, "/s"};
  EXPECT_THROW(ckpt::share_command(share, opt, join, "node9"), ckpt::RestartError);
  EXPECT_NO_THROW(ckpt::share_command(share, opt, join, "node2"));  // no remote shell reads it here
  join.coord_host = "localhost";
  try {
    ckpt::share_command({"node1", "node2", {"/ck/1.ckpt"}}, opt, join, "node9");
    FAIL() << "no error";
  } catch (const ckpt::RestartError& e) {
    EXPECT_STREQ(e.what(), "the processes of host node1 restart on node2, which cannot reach a coordinator at "
                           "localhost: give --coord-host an address the other hosts reach");
  }
}

TEST(RestartOptions, EnvironmentAndTemporaryDirectoryOfTheRestoredProcesses) {
  RestartParse p = parse({"--tmpdir", "/scratch", "--env-file", "env.txt", "x.ckpt"});
  ASSERT_EQ(p.action, ckpt::cli::Outcome::Run) << p.error;
  EXPECT_EQ(p.options.tmpdir, "/scratch");
  EXPECT_EQ(p.options.env_file, "env.txt");
  EXPECT_FALSE(p.options.modify_env);
  RestartParse m = parse({"--modify-env", "x.ckpt"}, {{"CKPT_RESTART_TMPDIR", "/t"}});
  ASSERT_EQ(m.action, ckpt::cli::Outcome::Run) << m.error;
  EXPECT_TRUE(m.options.modify_env);
  EXPECT_EQ(m.options.tmpdir, "/t");
}

TEST(RestartOptions, EnvFileAndModifyEnvExcludeEachOther) {
  RestartParse p = parse({"--env-file", "env.txt", "--modify-env", "x.ckpt"});
  EXPECT_EQ(p.action, ckpt::cli::Outcome::Error);
  EXPECT_NE(p.error.find("--env-file and --modify-env exclude each other"), std::string::npos) << p.error;
}

}  // namespace
