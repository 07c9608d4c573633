// Section "pid" of the image (libckpt/image/tree_sections.h).
#pragma once

namespace ckpt::pid {

// At CKPT_EVENT_DRAIN: records vpid, parent, group, session, the table's
// path and the unreaped children. No allocation, no locks.
void save_pid_section();

}  // namespace ckpt::pid
