/* DMTCP's application interface on top of ckpt (ckpt/plugin.h), so that
 * programs written for DMTCP's dmtcp.h build and run under ckpt unchanged
 * where the meaning carries over: asking for a checkpoint, keeping
 * checkpoints out of a critical section, and asking where the image goes.
 *
 * Written for ckpt; the names, values and calling conventions are DMTCP's
 * (its dmtcp.h declares the same functions), so the same source works with
 * either. Every function is a weak symbol: the program also runs without
 * any checkpointer, and the macros below answer DMTCP_NOT_PRESENT (or 0,
 * NULL, "") there. The functions live in libckpt.so, which ckpt_launch
 * preloads; nothing needs to be linked.
 *
 * Not provided: DMTCP's plugin interface (DMTCP_DECL_PLUGIN, event hooks,
 * barriers, the name service) -- write a ckpt plugin (ckpt/plugin.h) -- and
 * the queries of the coordinator's state (use ckpt_command --status --json). */
#ifndef CKPT_DMTCP_COMPAT_H
#define CKPT_DMTCP_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dmtcp_checkpoint()'s answers, and "is there a checkpointer". */
#define DMTCP_AFTER_CHECKPOINT 1
#define DMTCP_AFTER_RESTART 2
#define DMTCP_NOT_PRESENT 3
#define DMTCP_IS_PRESENT 4

/* 1 under ckpt_launch/ckpt_restart, else 0. */
int dmtcp_is_enabled(void) __attribute__((weak));
#define dmtcp_is_enabled() (dmtcp_is_enabled ? dmtcp_is_enabled() : 0)

/* Checkpoints the whole computation and waits: DMTCP_AFTER_CHECKPOINT once
 * the checkpoint is committed, DMTCP_AFTER_RESTART when the process comes
 * back from that checkpoint's image, 0 if the checkpoint failed. */
int dmtcp_checkpoint(void) __attribute__((weak));
#define dmtcp_checkpoint() (dmtcp_checkpoint ? dmtcp_checkpoint() : DMTCP_NOT_PRESENT)

/* Keeps checkpoints out until dmtcp_enable_ckpt() (they nest): a checkpoint
 * requested meanwhile waits (up to 20 s, then fails). Return 1. */
int dmtcp_disable_ckpt(void) __attribute__((weak));
#define dmtcp_disable_ckpt() (dmtcp_disable_ckpt ? dmtcp_disable_ckpt() : DMTCP_NOT_PRESENT)
int dmtcp_enable_ckpt(void) __attribute__((weak));
#define dmtcp_enable_ckpt() (dmtcp_enable_ckpt ? dmtcp_enable_ckpt() : DMTCP_NOT_PRESENT)

/* This process's last image (or the one it restarted from), NULL before. */
const char *dmtcp_get_ckpt_filename(void) __attribute__((weak));
#define dmtcp_get_ckpt_filename() (dmtcp_get_ckpt_filename ? dmtcp_get_ckpt_filename() : NULL)
/* The directory this process's images go to. */
const char *dmtcp_get_ckpt_dir(void) __attribute__((weak));
#define dmtcp_get_ckpt_dir() (dmtcp_get_ckpt_dir ? dmtcp_get_ckpt_dir() : "")
/* Where temporary files go: $TMPDIR, else /tmp. */
const char *dmtcp_get_tmpdir(void) __attribute__((weak));
/* The signal ckpt uses to suspend threads. */
int dmtcp_get_ckpt_signal(void) __attribute__((weak));

/* 0 before this process's first checkpoint, then growing with each
 * checkpoint and restart it goes through (DMTCP counts the computation's
 * checkpoints; what programs use it for, "has a checkpoint happened since",
 * holds for both). */
uint32_t dmtcp_get_generation(void) __attribute__((weak));
#define dmtcp_get_generation() (dmtcp_get_generation ? dmtcp_get_generation() : 0)

/* Committed checkpoints and restarts of this process: DMTCP_IS_PRESENT. */
int dmtcp_get_local_status(int *numCheckpoints, int *numRestarts) __attribute__((weak));
#define dmtcp_get_local_status(c, r) (dmtcp_get_local_status ? dmtcp_get_local_status(c, r) : DMTCP_NOT_PRESENT)
#ifdef __cplusplus
}
#endif

#endif /* CKPT_DMTCP_COMPAT_H */
