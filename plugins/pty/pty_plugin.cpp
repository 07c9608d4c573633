// Pseudo-terminals: pty masters and the slaves of masters held inside the
// computation (issue 10). The checkpoint side is pty_save.h, the restart side
// pty_restart.cpp, the image schema pty_section.h.
#include "ckpt/plugin.h"
#include "pty_save.h"

namespace ckpt::pty {
namespace {

void pty_event(ckpt_event_t event, void*) {
  switch (event) {
    case CKPT_EVENT_PRE_CHECKPOINT: claim_pty_fds(); break;
    case CKPT_EVENT_DRAIN: checkpoint_pty_fds(); break;
    default: break;
  }
}

const ckpt_plugin g_plugin = {"pty", pty_event};

__attribute__((constructor(202))) void register_pty_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
}  // namespace ckpt::pty
