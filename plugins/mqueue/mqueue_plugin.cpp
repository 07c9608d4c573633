// POSIX message queues (issue 10). The checkpoint side is mqueue_save.h,
// the mq_notify wrapper mqueue_notify.h, the restart side mqueue_restart.cpp,
// the image schema mqueue_section.h.
#include "ckpt/plugin.h"
#include "mqueue_save.h"

namespace ckpt::mqueue {
namespace {

void mqueue_event(ckpt_event_t event, void*) {
  switch (event) {
    case CKPT_EVENT_PRE_CHECKPOINT: claim_mqueue_fds(); break;
    case CKPT_EVENT_DRAIN: checkpoint_mqueue_fds(); break;
    case CKPT_EVENT_RESTART: reregister_after_restart(); break;
    case CKPT_EVENT_FORK_CHILD: mqueue_fork_child(); break;
    default: break;
  }
}

const ckpt_plugin g_plugin = {"mqueue", mqueue_event};

__attribute__((constructor(202))) void register_mqueue_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
}  // namespace ckpt::mqueue
