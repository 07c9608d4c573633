// This process's view of virtual ids: the shared pid table of the
// computation (processes, and groups/sessions whose leader is gone) plus its
// own table of restored threads whose kernel tid changed.
//
// Every translation is lock-free and allocation-free: signal handlers, the
// checkpoint thread and the wrappers all use it. Ids nobody knows map to
// themselves (a process outside the computation keeps its real pid).
#pragma once

#include <sys/types.h>

#include "ckpt/plugin.h"
#include "pid_table.h"

namespace ckpt::pid {

// True once this process uses a pid table (libckpt is active).
bool active();
PidTable& table();
// The table file's path (empty when not active).
const char* table_path();

// This process's own ids.
pid_t self_virtual();
pid_t self_real();

pid_t to_virtual(pid_t real);
pid_t to_real(pid_t virt);
// Process groups and sessions: a group-only entry wins over a process entry.
pid_t to_virtual_group(pid_t real);
pid_t to_real_group(pid_t virt);
// kill()/waitpid() targets: > 0 a pid, < -1 a process group, 0 and -1 as is.
pid_t to_real_target(pid_t target);

// ---- changes (plugin events and wrappers) ----

// Start-up: open the table named by $CKPT_PIDTABLE (an exec'ed member of
// the computation) or create one (the first process) and find or insert
// this process. Runs in the constructor.
void start();
// In a new child (fork), before it runs anything else.
void become_forked_child();
// Records a child by its kernel pid (vpid = that pid), in parent or child;
// a stale entry left by an unreaped process with the same kernel pid is
// corrected.
void record_child(pid_t real, pid_t parent_vpid);
// A child was reaped: it leaves the table.
void forget_reaped(pid_t real);
// Before a call that may create a process group or session with kernel id
// `real`: a group-only entry for a group `real` that no longer exists is stale.
void drop_stale_group(pid_t real);
// After a restart (threads frozen): adopt the table the restorer mapped where
// ours was, learn its path, and replace the thread table.
void adopt_restored(const ckpt_restart_info* info);
// Threads run again after a restart: a later exec finds the table.
void export_table_path();
// The process exits (not exec). A process whose parent is outside the
// computation leaves the table; the last one removes the file.
void leave_at_exit();

}  // namespace ckpt::pid
