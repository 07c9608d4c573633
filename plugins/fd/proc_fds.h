// Descriptors open on /proc files of a process ("/proc/1234/status", which is
// also what /proc/self/... resolves to). Their paths hold kernel pids, which
// a restart under new pids changes, and only the restored process knows its
// new ones: ckpt_restart leaves these numbers alone (FdKind::Elsewhere, the
// path recorded with virtual ids) and the process reopens them itself at
// CKPT_EVENT_RESTART, under its new pid (and its threads' new tids).
#pragma once

#include "ckpt/plugin.h"
#include "tree_sections.h"

namespace ckpt::fd {

// At checkpoint, for a File or Directory record: if it names /proc/<pid>/...,
// rewrites its path with virtual ids, makes it Elsewhere and keeps what the
// restart needs; returns whether it did. Fails the checkpoint if too many.
bool claim_proc_fd(image::FdRecord& r);
// A new checkpoint begins: forget the previous one's.
void forget_proc_fds();
// After a restart: reopens each claimed descriptor at its number.
void reopen_proc_fds(const ckpt_restart_info& info);

}  // namespace ckpt::fd
