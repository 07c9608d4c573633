// The shape of a restarted computation: which process forks which, which
// ones were zombies, sessions and process groups. Built from each image's
// "pid" section (read by plugins/pid) before anything runs; pure data, so it is
// unit-tested without images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/restart.h"  // SavedIds

namespace ckpt {

struct TreeMember {
  int32_t vpid = 0, vppid = 0, vpgid = 0, vsid = 0;
  int image = -1;           // index of its image; -1 for a zombie
  int32_t wait_status = 0;  // zombies: what their parent's wait reports
  int parent = -1;          // index in members; -1: a child of ckpt_restart itself
  std::vector<int> children;
  bool zombie() const { return image < 0; }
};

struct RestartTree {
  // Live processes first, member i == image i; zombies after them.
  std::vector<TreeMember> members;
  int root = -1;                   // whose exit status ckpt_restart takes
  std::vector<int> top_children;  // root and orphans: forked by ckpt_restart itself

  int find(int32_t vpid) const;  // member index, -1 if not ours
  size_t process_count() const;  // live ones (== number of images)
};

// Builds the tree. The root is the process whose parent is not among the
// images; if several have no parent here (orphans), the one with the lowest
// vpid (the earliest created). Fails on a vpid that appears twice or a
// parent chain that never reaches a process without a parent here.
bool build_restart_tree(const std::vector<SavedIds>& processes, RestartTree& tree, std::string& error);

}  // namespace ckpt
