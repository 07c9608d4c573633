// The mqueue kind's checkpoint side. At PRE_CHECKPOINT it claims every
// POSIX message queue descriptor of the process (the fd plugin then marks
// them Elsewhere) and shares which queues it holds; at DRAIN, with every
// process of the computation frozen, one process per queue (the one whose
// mq_notify registration the queue has, else the lowest holder) reads its
// messages out and puts them back in the same order at once, so that no
// process of the computation, whenever it resumes, finds the queue emptied;
// a registration is taken off for that and made again, so it does not fire.
// Each process saves its descriptors in section "mqueue" (mqueue_section.h),
// each leader its queues with their messages.
#pragma once

namespace ckpt::mqueue {

// PRE_CHECKPOINT: claims and shares the process's queue descriptors.
void claim_mqueue_fds();
// DRAIN: saves them; fails the checkpoint on what cannot be restored.
void checkpoint_mqueue_fds();
// CKPT_EVENT_RESTART: the registrations this process had at the checkpoint, made again.
void reregister_after_restart();
// CKPT_EVENT_FORK_CHILD.
void mqueue_fork_child();

}  // namespace ckpt::mqueue
