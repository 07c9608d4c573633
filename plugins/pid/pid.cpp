// Pid virtualization (GUIDE §3.5): the application only ever sees the pids
// and tids it saw when each process was created. A process's virtual pid is
// its kernel pid at creation; after a restart the kernel's may differ, and
// the shared pid table (pid_table.h) maps between them for the whole tree.
//
// This file follows the process through its life; virtual_ids.* holds the
// tables, pid_wrappers.cpp and proc_paths.cpp translate at the C library's
// surface, pid_section.cpp writes the image section.
#include "ckpt/plugin.h"
#include "pid_section.h"
#include "virtual_ids.h"

namespace {

using namespace ckpt::pid;

void pid_event(ckpt_event_t event, void* data) {
  switch (event) {
    case CKPT_EVENT_INIT:
      start();
      break;
    case CKPT_EVENT_FORK_CHILD:
      become_forked_child();
      break;
    case CKPT_EVENT_FORK_PARENT:
      record_child(*static_cast<pid_t*>(data), self_virtual());
      break;
    case CKPT_EVENT_DRAIN:
      save_pid_section();
      break;
    case CKPT_EVENT_RESTART:
      adopt_restored(static_cast<const ckpt_restart_info*>(data));
      break;
    case CKPT_EVENT_RESTART_RESUMED:
      export_table_path();
      break;
    case CKPT_EVENT_EXIT:  // exit only: an exec keeps the process (and its entry)
      leave_at_exit();
      break;
    default:
      break;
  }
}

const ckpt_plugin g_plugin = {"pid", pid_event};

__attribute__((constructor(200))) void register_pid_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace

extern "C" {

pid_t ckpt_virtual_pid(pid_t real) { return to_virtual(real); }

int ckpt_for_each_process(int (*fn)(pid_t virt, pid_t real, void* arg), void* arg) {
  pid_t self = self_real();
  if (fn(self_virtual(), self, arg) != 0) return 0;
  if (!active()) return 0;
  // Zombies and group-only entries carry flags: they hold nothing.
  table().for_each([&](const ckpt::PidEntry& e) {
    return e.flags != 0 || e.real == self || e.real <= 0 || fn(e.vpid, e.real, arg) == 0;
  });
  return 0;
}
pid_t ckpt_real_pid(pid_t virt) { return to_real(virt); }

}  // extern "C"
