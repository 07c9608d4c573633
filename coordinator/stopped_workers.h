// Continuing a worker that job control stopped, so that it can answer a
// checkpoint or the freeze before a kill (ContinueStopped, state_machine.h).
#pragma once

#include <sys/types.h>

#include <string>

namespace ckpt::coord {

enum class WakeResult {
  Running,     // not stopped: nothing to do
  Woken,       // it was stopped and its checkpoint thread got SIGCONT
  NotOurs,     // pid gone, reused, or not holding the connection's socket
  NoThread,    // stopped, but no checkpoint thread found
  Failed,      // the signal could not be sent (errno in `error`)
};

// Continues process `real_pid` if it is stopped (state T) and holds the
// socket `socket_inode` (its end of its coordinator connection, which proves
// the pid still names that worker and not a process that reused it). The
// SIGCONT goes to its checkpoint thread, which blocks SIGCONT: the
// kernel continues the whole process, the application's SIGCONT handler does
// not run, and the signal stays pending on that thread, which is how the
// worker learns it was woken for the coordinator (plugins/signal/
// job_control.cpp). `error` says why for Failed.
WakeResult continue_stopped_worker(pid_t real_pid, unsigned long socket_inode, std::string& error);

}  // namespace ckpt::coord
