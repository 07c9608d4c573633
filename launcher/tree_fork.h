// Forking a restarted computation as the tree it was (contract "Restart"):
// every process is forked by its restored parent, inside ckpt_restart's code,
// and all of them move through the same phases together, synchronised by
// barriers in a MAP_SHARED control block:
//
//   1. fork: each process forks its children (with their original pids
//      through clone3 set_tid when the kernel lets us), calling setsid first
//      if it led its session; zombies are children that will exit with their
//      saved status;
//   2. groups: group leaders make their groups, then members join them (the
//      leader's new real pid); zombies exit now;
//   3. each process stages its own memory and installs its descriptors;
//      once every one is ready, all enter their restorers.
//
// A failure anywhere (recorded with its reason in the control block) stops
// every process before any restored code runs.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "process_restore.h"
#include "restart_tree.h"

namespace ckpt {

struct TreeForkPlan {
  const RestartTree* tree = nullptr;
  bool try_original_pids = true;
  // In member `i`'s own process, right after it exists (both live processes
  // and zombies): e.g. enter it in the pid table.
  std::function<void(int member, pid_t real_pid)> created;
  // In live member `i`'s own process when it leads its session, right after
  // setsid and before it forks the members of that session (they inherit
  // its controlling terminal at fork). Throws RestartError.
  std::function<void(int member)> session_made;
  // In live member `i`'s own process, in phase 3: stage its memory and put
  // its descriptors in place. Throws RestartError.
  std::function<void(int member, ProcessRestore& restore)> prepare;
  // In ckpt_restart itself, once every process is in its group and before
  // any of them runs (e.g. hand the terminal to the root's group), with each
  // member's new real pid.
  std::function<void(const std::vector<pid_t>& real_pids)> groups_ready;
  // "process 1234 (prog)", for messages.
  std::function<std::string(int member)> describe;
};

// Runs the phases from ckpt_restart itself, which forks the root and the
// orphans. Returns once every process is ready and entering its restorer,
// with each member's new real pid. On failure, kills everything it started
// and throws RestartError with the first reason.
std::vector<pid_t> fork_tree(const TreeForkPlan& plan);

}  // namespace ckpt
