// The pty kind's checkpoint side. At PRE_CHECKPOINT it claims every pty
// master of the process and every slave whose master some process of the
// computation holds (the fd plugin then marks them Elsewhere; a slave whose
// master is outside, the terminal the computation was launched on, stays the
// fd plugin's). At DRAIN, with every process frozen, the process holding a
// pair's master (the lowest (vpid, fd) of them) saves the pair: the slave's
// settings, window size, packet mode and lock, the session it controls and
// its foreground group, and the bytes queued in both directions, which it
// reads out through a slave descriptor of its own (TIOCGPTPEER) and puts
// back before DRAIN ends, while every process is still frozen (pty_refill.h).
#pragma once

namespace ckpt::pty {

// PRE_CHECKPOINT: claims the process's pty descriptors.
void claim_pty_fds();
// DRAIN: describes them, drains the pairs this process leads into the
// section and puts them back as they were; fails the checkpoint on what
// cannot be restored.
void checkpoint_pty_fds();

}  // namespace ckpt::pty
