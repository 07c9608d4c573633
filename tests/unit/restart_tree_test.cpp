#include "restart_tree.h"

#include <gtest/gtest.h>

namespace {

using ckpt::RestartTree;
using ckpt::SavedIds;

SavedIds proc(int32_t vpid, int32_t vppid, int32_t vpgid = 0, int32_t vsid = 0) {
  SavedIds s;
  s.vpid = vpid;
  s.vppid = vppid;
  s.vpgid = vpgid;
  s.vsid = vsid;
  return s;
}

TEST(RestartTree, ParentsForkTheirChildren) {
  RestartTree t;
  std::string error;
  // Images in any order: a grandchild first.
  ASSERT_TRUE(ckpt::build_restart_tree({proc(300, 200), proc(100, 50), proc(200, 100)}, t, error)) << error;
  EXPECT_EQ(t.root, 1);
  EXPECT_EQ(t.top_children, std::vector<int>{1});
  EXPECT_EQ(t.members[1].children, std::vector<int>{2});
  EXPECT_EQ(t.members[2].children, std::vector<int>{0});
  EXPECT_EQ(t.members[0].parent, 2);
  EXPECT_EQ(t.process_count(), 3u);
}

TEST(RestartTree, OrphansBecomeChildrenOfCkptRestartAndTheEarliestIsRoot) {
  RestartTree t;
  std::string error;
  ASSERT_TRUE(ckpt::build_restart_tree({proc(700, 1), proc(400, 33), proc(800, 400)}, t, error)) << error;
  EXPECT_EQ(t.members[t.root].vpid, 400);
  EXPECT_EQ(t.top_children.size(), 2u);
  EXPECT_EQ(t.members[0].parent, -1);
}

TEST(RestartTree, ZombiesAreChildrenOfTheirParent) {
  SavedIds parent = proc(100, 1, 100, 100);
  parent.zombies.push_back({105, 3 << 8, 100});
  RestartTree t;
  std::string error;
  ASSERT_TRUE(ckpt::build_restart_tree({parent}, t, error)) << error;
  ASSERT_EQ(t.members.size(), 2u);
  EXPECT_TRUE(t.members[1].zombie());
  EXPECT_EQ(t.members[1].parent, 0);
  EXPECT_EQ(t.members[1].wait_status, 3 << 8);
  EXPECT_EQ(t.members[1].vsid, 100);
  EXPECT_EQ(t.members[0].children, std::vector<int>{1});
  EXPECT_EQ(t.process_count(), 1u);
  EXPECT_EQ(t.find(105), 1);
  EXPECT_EQ(t.find(7), -1);
}

TEST(RestartTree, RefusesAPidGivenTwice) {
  RestartTree t;
  std::string error;
  EXPECT_FALSE(ckpt::build_restart_tree({proc(100, 1), proc(100, 1)}, t, error));
  EXPECT_NE(error.find("100"), std::string::npos);
  SavedIds p = proc(100, 1);
  p.zombies.push_back({100, 0, 0});
  EXPECT_FALSE(ckpt::build_restart_tree({p}, t, error));
}

TEST(RestartTree, RefusesParentCycles) {
  RestartTree t;
  std::string error;
  EXPECT_FALSE(ckpt::build_restart_tree({proc(1000, 2000), proc(2000, 1000)}, t, error));
  EXPECT_FALSE(ckpt::build_restart_tree({proc(5, 1), proc(1000, 2000), proc(2000, 1000)}, t, error));
  EXPECT_NE(error.find("cycle"), std::string::npos);
}

}  // namespace
