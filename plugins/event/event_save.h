// The event kind's checkpoint side. At PRE_CHECKPOINT it claims every
// eventfd, timerfd, signalfd, epoll and inotify descriptor of the process
// (the fd plugin then marks them Elsewhere); at DRAIN, with every process of
// the computation frozen, it tells which descriptors of the computation
// refer to one object (kcmp), and the process that leads each object saves
// its state in section "event" (event_section.h), from fdinfo, without
// reading the descriptor: the application goes on as if nothing happened.
#pragma once

namespace ckpt::event {

// PRE_CHECKPOINT: claims the process's event descriptors.
void claim_event_fds();
// DRAIN: describes them; fails the checkpoint on what cannot be restored.
void checkpoint_event_fds();

}  // namespace ckpt::event
