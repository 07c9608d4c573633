// Event descriptors: eventfd, timerfd, signalfd, epoll and inotify (issue 9).
// The checkpoint side is event_save.h, the wrappers event_wrappers.cpp, the
// restart side event_restart.cpp, the image schema event_section.h.
#include "ckpt/plugin.h"
#include "event_save.h"

namespace ckpt::event {
namespace {

void event_event(ckpt_event_t event, void*) {
  switch (event) {
    case CKPT_EVENT_PRE_CHECKPOINT: claim_event_fds(); break;
    case CKPT_EVENT_DRAIN: checkpoint_event_fds(); break;
    default: break;
  }
}

const ckpt_plugin g_plugin = {"event", event_event};

__attribute__((constructor(202))) void register_event_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
}  // namespace ckpt::event
