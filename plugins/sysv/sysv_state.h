// This process's handle on the shared System V id table, for the wrappers
// (sysv_wrappers.cpp) and the plugin's events (sysv_plugin.cpp).
#pragma once

#include <sys/types.h>

#include "sysv_table.h"

namespace ckpt::sysv {

// True once this process maps the table (libckpt is active).
bool active();
SysvTable& table();

// The kernel id behind a virtual one (itself if the table does not know it).
int to_real(IpcKind kind, int virt);
// The virtual id of a kernel id (itself if the table does not know it).
int to_virtual(IpcKind kind, int real);

// A section of a wrapper that changes the table together with the kernel
// object: no checkpoint begins inside it (ckpt_delay_checkpoints), and it
// holds the table's lock. Nothing in it may block for long.
class TableChange {
 public:
  TableChange();
  ~TableChange();
  TableChange(const TableChange&) = delete;
  TableChange& operator=(const TableChange&) = delete;
};

}  // namespace ckpt::sysv
