// Descriptors, pipes and files (GUIDE §3.6). At DRAIN, while every process
// of the computation is frozen, each process describes its descriptors in
// section "fds" (libckpt/image/tree_sections.h), saves the file contents and
// pipe bytes it is responsible for, and puts the pipe bytes back at RESUME.
// ckpt_restart recreates the descriptions from those sections.
#include <stdlib.h>

#include "ckpt/plugin.h"
#include "descriptors.h"
#include "file_policy.h"
#include "pipes.h"
#include "proc_fds.h"
#include "std_streams.h"
#include "ckpt/environment.h"

namespace ckpt::fd {
namespace {

// The rules ckpt_launch passed in CKPT_FILE_POLICY (it validated them).
// constinit: INIT runs from a constructor, before any dynamic initializer
// of this file would.
constinit PolicyTable g_policies;

void fd_event(ckpt_event_t event, void* data) {
  switch (event) {
    case CKPT_EVENT_INIT: {
      size_t line;
      bool overflow;
      g_policies.load(getenv(CKPT_ENV_FILE_POLICY), &line, &overflow);
      stdio_init();
      break;
    }
    case CKPT_EVENT_DRAIN:
      forget_proc_fds();
      checkpoint_descriptors(g_policies);
      break;
    case CKPT_EVENT_RESUME:
      refill_pipes();
      break;
    case CKPT_EVENT_RESTART:
      // ckpt_restart refilled the pipes and bound the standard streams.
      forget_drained_pipes();
      stdio_after_restart();
      reopen_proc_fds(*static_cast<const ckpt_restart_info*>(data));
      break;
    default:
      break;
  }
}

const ckpt_plugin g_plugin = {"fd", fd_event};

__attribute__((constructor(200))) void register_fd_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
}  // namespace ckpt::fd
