#include "ckpt/restart_paths.h"

#include <gtest/gtest.h>

namespace {

TEST(PathRewrite, MatchesWholeComponentsOnly) {
  ckpt::PathRewriter r;
  r.add_prefix("/data", "/scratch");
  EXPECT_EQ(r.apply("/data"), "/scratch");
  EXPECT_EQ(r.apply("/data/in/x.txt"), "/scratch/in/x.txt");
  EXPECT_EQ(r.apply("/database/x"), "/database/x");
  EXPECT_EQ(r.apply("/dat"), "/dat");
  EXPECT_EQ(r.apply("/other/data/x"), "/other/data/x");
}

TEST(PathRewrite, LongestPrefixWinsWhateverTheOrder) {
  ckpt::PathRewriter r;
  r.add_prefix("/data", "/a");
  r.add_prefix("/data/big", "/b");
  EXPECT_EQ(r.apply("/data/big/f"), "/b/f");
  EXPECT_EQ(r.apply("/data/small/f"), "/a/small/f");
  EXPECT_EQ(r.apply("/data/bigger"), "/a/bigger");
}

TEST(PathRewrite, IgnoresTrailingSlashesAndHandlesRoot) {
  ckpt::PathRewriter r;
  r.add_prefix("/data/", "/new/");
  EXPECT_EQ(r.apply("/data/f"), "/new/f");
  ckpt::PathRewriter root;
  root.add_prefix("/", "/chroot");
  EXPECT_EQ(root.apply("/etc/passwd"), "/chroot/etc/passwd");
  ckpt::PathRewriter to_root;
  to_root.add_prefix("/home/u", "/");
  EXPECT_EQ(to_root.apply("/home/u/f"), "/f");
  EXPECT_EQ(to_root.apply("/home/u"), "/");
}

TEST(PathRewrite, ExactRenamesComeFirstAndDoNotReachBelow) {
  ckpt::PathRewriter r;
  r.add_prefix("/dev/shm", "/elsewhere");
  r.add_exact("/dev/shm/ckpt-0-1.pids", "/dev/shm/ckpt-0-2.pids");
  EXPECT_EQ(r.apply("/dev/shm/ckpt-0-1.pids"), "/dev/shm/ckpt-0-2.pids");
  EXPECT_EQ(r.apply("/dev/shm/other"), "/elsewhere/other");
  EXPECT_TRUE(r.renamed("/dev/shm/ckpt-0-1.pids"));
  EXPECT_FALSE(r.renamed("/dev/shm/other"));
}

TEST(PathRewrite, LeavesRelativeAndUnmatchedPathsAlone) {
  ckpt::PathRewriter r;
  r.add_prefix("/data", "/x");
  EXPECT_EQ(r.apply("data/f"), "data/f");
  EXPECT_EQ(r.apply(""), "");
  EXPECT_EQ(r.apply("pipe:[1234]"), "pipe:[1234]");
}

TEST(PathRewrite, ParsesOldEqualsNew) {
  std::string from, to, error;
  ASSERT_TRUE(ckpt::parse_relocation("/a/b=/c=d", from, to, error)) << error;
  EXPECT_EQ(from, "/a/b");
  EXPECT_EQ(to, "/c=d");
  EXPECT_FALSE(ckpt::parse_relocation("/a", from, to, error));
  EXPECT_FALSE(ckpt::parse_relocation("a=/b", from, to, error));
}

}  // namespace
