// ckpt_restart for a computation on several hosts (restart_hosts.h): the
// options, the host map, and the command each host's share runs.
#include "restart_hosts.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "ckpt/restart.h"

namespace {

using ckpt::RestartParse;

RestartParse parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "ckpt_restart");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return ckpt::parse_restart_options(static_cast<int>(argv.size()), argv.data(), [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

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

}  // namespace
