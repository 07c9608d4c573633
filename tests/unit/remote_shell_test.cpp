// What a process of the computation runs when it execs the remote shell
// (libckpt/src/remote_shell.h).
#include "remote_shell.h"

#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include "log.h"

// libckpt's formatter (log.cpp) takes the same formats as these tests use.
size_t ckpt::format_to(char* buf, size_t cap, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  return n < 0 ? 0 : std::min(static_cast<size_t>(n), cap ? cap - 1 : 0);
}

namespace {

using ckpt::RshMatch;

const ckpt::RemoteJoin kJoin{"ssh", "/opt/ckpt/bin/ckpt_launch", "10.1.2.3", 7779, "/home/u/c.secret", "/scratch/ck"};

struct Result {
  RshMatch match;
  std::vector<std::string> argv;
  std::string why;
  std::string host;
};

Result rewrite(std::vector<std::string> args, const ckpt::RemoteJoin& join = kJoin) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  static ckpt::RshArgv out;
  char why[512] = {};
  Result r{ckpt::rewrite_remote_shell(argv.data(), join, out, why, sizeof why), {}, why, {}};
  if (r.match == RshMatch::Rewritten) {
    for (char** a = out.argv; *a; ++a) r.argv.emplace_back(*a);
    r.host = out.host;
  }
  return r;
}

const std::vector<std::string> kLaunch = {"/opt/ckpt/bin/ckpt_launch", "--join", "--coord-host", "10.1.2.3",
                                          "--coord-port", "7779", "--secret-file", "/home/u/c.secret",
                                          "--host-name"};

std::vector<std::string> joined(std::vector<std::string> head, const std::string& host,
                                std::vector<std::string> command) {
  head.insert(head.end(), kLaunch.begin(), kLaunch.end());
  head.insert(head.end(), {host, "--ckptdir", "/scratch/ck", "--"});
  head.insert(head.end(), command.begin(), command.end());
  return head;
}

TEST(RemoteShell, SshCommandRunsUnderCkptLaunchJoin) {
  const Result r = rewrite({"ssh", "node2", "./solver", "-n", "4"});
  ASSERT_EQ(r.match, RshMatch::Rewritten) << r.why;
  EXPECT_EQ(r.argv, joined({"ssh", "node2"}, "node2", {"./solver", "-n", "4"}));
  EXPECT_EQ(r.host, "node2");
}

TEST(RemoteShell, OptionsAndTheirValuesStayBeforeTheHost) {
  const Result r = rewrite({"/usr/bin/ssh", "-p", "2222", "-tt", "-oBatchMode=yes", "-l", "me", "me@node3", "app"});
  ASSERT_EQ(r.match, RshMatch::Rewritten) << r.why;
  EXPECT_EQ(r.argv, joined({"/usr/bin/ssh", "-p", "2222", "-tt", "-oBatchMode=yes", "-l", "me", "me@node3"}, "node3",
                           {"app"}));
  EXPECT_EQ(r.host, "node3");
}

TEST(RemoteShell, ConfiguredRemoteShellWithLeadingWords) {
  ckpt::RemoteJoin join = kJoin;
  join.rsh = "ip netns exec";
  const Result r = rewrite({"ip", "netns", "exec", "hostB", "bash", "job.sh"}, join);
  ASSERT_EQ(r.match, RshMatch::Rewritten) << r.why;
  EXPECT_EQ(r.argv, joined({"ip", "netns", "exec", "hostB"}, "hostB", {"bash", "job.sh"}));
  // Other ip commands, and ssh when it is not the remote shell, are left alone.
  EXPECT_EQ(rewrite({"ip", "netns", "list"}, join).match, RshMatch::Other);
  EXPECT_EQ(rewrite({"ssh", "node2", "app"}, join).match, RshMatch::Other);
}

TEST(RemoteShell, LoginsAndOtherProgramsAreLeftAlone) {
  EXPECT_EQ(rewrite({"ssh", "node2"}).match, RshMatch::Other);
  EXPECT_EQ(rewrite({"ssh", "-p", "22"}).match, RshMatch::Other);
  EXPECT_EQ(rewrite({"sshd", "node2", "app"}).match, RshMatch::Other);
  EXPECT_EQ(rewrite({"/bin/sh", "-c", "ssh node2 app"}).match, RshMatch::Other);
}

// A computation on one host (its coordinator on loopback) that runs ssh for
// something else (git, rsync) goes on, with a warning.
TEST(RemoteShell, CoordinatorOnLoopbackLeavesTheCommandOutsideWithAWarning) {
  ckpt::RemoteJoin join = kJoin;
  join.coord_host = "localhost";
  const Result r = rewrite({"ssh", "git@example.org", "git-upload-pack", "'repo'"}, join);
  ASSERT_EQ(r.match, RshMatch::Outside);
  EXPECT_EQ(r.why, "'git-upload-pack' on example.org runs outside the computation: its coordinator is at localhost, "
                   "which other hosts cannot reach (launch with --coord-host and an address they reach, or --rsh "
                   "none)");
  join.coord_host = "127.0.0.1";
  EXPECT_EQ(rewrite({"ssh", "node2", "app"}, join).match, RshMatch::Outside);
}

TEST(RemoteShell, RshNoneTurnsTheRewriteOff) {
  ckpt::RemoteJoin join = kJoin;
  join.rsh = "none";
  EXPECT_EQ(rewrite({"ssh", "node2", "app"}, join).match, RshMatch::Other);
  EXPECT_EQ(rewrite({"none", "node2", "app"}, join).match, RshMatch::Other);
}

TEST(RemoteShell, PathsARemoteShellWouldInterpretAreRefused) {
  ckpt::RemoteJoin join = kJoin;
  join.ckptdir = "/scratch/my checkpoints";
  const Result r = rewrite({"ssh", "node2", "app"}, join);
  ASSERT_EQ(r.match, RshMatch::Refused);
  EXPECT_EQ(r.why, "cannot start 'app' on node2 inside the computation: '/scratch/my checkpoints' has characters a "
                   "remote shell would interpret");
}

}  // namespace
