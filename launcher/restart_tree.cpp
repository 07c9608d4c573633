#include "restart_tree.h"

#include <map>

namespace ckpt {

int RestartTree::find(int32_t vpid) const {
  for (size_t i = 0; i < members.size(); ++i)
    if (members[i].vpid == vpid) return static_cast<int>(i);
  return -1;
}

size_t RestartTree::process_count() const {
  size_t n = 0;
  for (const TreeMember& m : members) n += !m.zombie();
  return n;
}

bool build_restart_tree(const std::vector<SavedIds>& processes, RestartTree& tree, std::string& error) {
  tree = RestartTree();
  std::map<int32_t, int> index;
  auto add = [&](const TreeMember& m) {
    if (m.vpid <= 0) {
      error = "process with invalid pid " + std::to_string(m.vpid);
      return false;
    }
    if (!index.emplace(m.vpid, static_cast<int>(tree.members.size())).second) {
      error = "pid " + std::to_string(m.vpid) + " appears twice (images of different computations, or one image given twice?)";
      return false;
    }
    tree.members.push_back(m);
    return true;
  };
  for (size_t i = 0; i < processes.size(); ++i) {
    const SavedIds& p = processes[i];
    TreeMember m;
    m.vpid = p.vpid;
    m.vppid = p.vppid;
    m.vpgid = p.vpgid;
    m.vsid = p.vsid;
    m.image = static_cast<int>(i);
    if (!add(m)) return false;
  }
  for (const SavedIds& p : processes)
    for (const SavedIds::Zombie& z : p.zombies) {
      TreeMember m;
      m.vpid = z.vpid;
      m.vppid = p.vpid;
      m.vpgid = z.vpgid;
      m.vsid = p.vsid;  // a zombie never left its parent's session in a way we could restore
      m.wait_status = z.wait_status;
      if (!add(m)) return false;
    }

  for (size_t i = 0; i < tree.members.size(); ++i) {
    TreeMember& m = tree.members[i];
    auto parent = index.find(m.vppid);
    if (parent != index.end() && parent->second != static_cast<int>(i) && !tree.members[parent->second].zombie()) {
      m.parent = parent->second;
      tree.members[parent->second].children.push_back(static_cast<int>(i));
    } else if (m.zombie()) {
      error = "zombie " + std::to_string(m.vpid) + " has no parent among the images";
      return false;
    } else {
      tree.top_children.push_back(static_cast<int>(i));
      if (tree.root < 0 || m.vpid < tree.members[tree.root].vpid) tree.root = static_cast<int>(i);
    }
  }
  if (tree.root < 0) {
    error = "no root process: every process's parent is another image's (a parent cycle)";
    return false;
  }
  // Every member must hang below ckpt_restart's own children.
  std::vector<bool> reached(tree.members.size(), false);
  std::vector<int> todo = tree.top_children;
  while (!todo.empty()) {
    int i = todo.back();
    todo.pop_back();
    reached[i] = true;
    for (int c : tree.members[i].children) todo.push_back(c);
  }
  for (size_t i = 0; i < reached.size(); ++i)
    if (!reached[i]) {
      error = "process " + std::to_string(tree.members[i].vpid) + " is in a parent cycle";
      return false;
    }
  return true;
}

}  // namespace ckpt
