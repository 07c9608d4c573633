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
 * DMTCP's plugin interface is here too: a descriptor with an event hook
 * (DMTCP_DECL_PLUGIN in a preloaded library, or dmtcp_register_plugin from
 * the program), DMTCP's events where ckpt has a counterpart (see the list
 * below), and the barriers a hook calls. The descriptor, the events' values
 * and the event data are laid out as DMTCP's, so a plugin or program built
 * against DMTCP's own dmtcp.h also runs under ckpt.
 *
 * Not provided: DMTCP's name service (dmtcp::kvdb, publish/subscribe) and
 * its wrapper internals -- write a ckpt plugin (ckpt/plugin.h: ckpt_share is
 * the counterpart of the name service) -- and the queries of the
 * coordinator's state (use ckpt_command --status --json). */
#ifndef CKPT_DMTCP_COMPAT_H
#define CKPT_DMTCP_COMPAT_H

#include <dlfcn.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#ifdef __cplusplus
#define EXTERNC extern "C"
extern "C" {
#else
#define EXTERNC
#endif

/* RTLD_NEXT is glibc's only with _GNU_SOURCE; its value is fixed by the ABI. */
#ifndef RTLD_NEXT
#define RTLD_NEXT ((void *)-1l)
#endif

/* The definition of `func` that comes after the caller's own in the
 * dynamic linker's search order (a wrapper's way to the real function). */
#define NEXT_FNC(func) ((__typeof__(&func))dlsym(RTLD_NEXT, #func))

/* Shared-memory flags DMTCP's examples use for variables two threads poll. */
#define ATOMIC_SHARED_GLOBAL volatile __attribute((aligned))
#define ATOMIC_SHARED volatile __attribute((aligned))

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
/* Where ckpt keeps its temporary files for this process: ckpt_launch's or
 * ckpt_restart's --tmpdir (CKPT_TMPDIR), else $TMPDIR, else /tmp. */
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

/* ---- Plugins ----
 *
 * The events, in DMTCP's order (their values are DMTCP's). Under ckpt a hook
 * receives these, mapped from ckpt's events (ckpt/plugin.h):
 *   INIT             once per plugin: at start-up (CKPT_EVENT_INIT) for those
 *                    declared then, at registration for those registered later
 *   EXIT             CKPT_EVENT_EXIT
 *   PRE_EXEC         CKPT_EVENT_PRE_EXEC (data->preExec.filename)
 *   ATFORK_PREPARE/PARENT/CHILD   CKPT_EVENT_PRE_FORK/FORK_PARENT/FORK_CHILD,
 *                    for every fork, vfork and posix_spawn alike
 *   PRESUSPEND       CKPT_EVENT_PRE_SUSPEND: a checkpoint begins, threads run
 *   PRECHECKPOINT    CKPT_EVENT_PRE_CHECKPOINT: every thread is frozen
 *   RESUME           CKPT_EVENT_RESUME after a checkpoint, threads still
 *                    frozen; also when a checkpoint is abandoned after
 *                    PRESUSPEND (so every PRESUSPEND has its RESUME or RESTART)
 *   RESTART          after a restart, once the process is back in the
 *                    computation (CKPT_EVENT_RESUME of the restart): threads
 *                    still frozen, barriers work
 *   RUNNING          CKPT_EVENT_RESUMING: threads run right after
 * Never delivered (ckpt has no such event): POST_EXEC, ATFORK_FAILED,
 * VFORK_*, PTHREAD_*, THREAD_RESUME, *_FD and *_PATH. */
typedef enum eDmtcpEvent {
  DMTCP_EVENT_INIT,
  DMTCP_EVENT_EXIT,
  DMTCP_EVENT_PRE_EXEC,
  DMTCP_EVENT_POST_EXEC,
  DMTCP_EVENT_ATFORK_PREPARE,
  DMTCP_EVENT_ATFORK_PARENT,
  DMTCP_EVENT_ATFORK_CHILD,
  DMTCP_EVENT_ATFORK_FAILED,
  DMTCP_EVENT_VFORK_PREPARE,
  DMTCP_EVENT_VFORK_PARENT,
  DMTCP_EVENT_VFORK_CHILD,
  DMTCP_EVENT_VFORK_FAILED,
  DMTCP_EVENT_PTHREAD_START,
  DMTCP_EVENT_PTHREAD_EXIT,
  DMTCP_EVENT_PTHREAD_RETURN,
  DMTCP_EVENT_PRESUSPEND,
  DMTCP_EVENT_PRECHECKPOINT,
  DMTCP_EVENT_RESUME,
  DMTCP_EVENT_RESTART,
  DMTCP_EVENT_RUNNING,
  DMTCP_EVENT_THREAD_RESUME,
  DMTCP_EVENT_OPEN_FD,
  DMTCP_EVENT_REOPEN_FD,
  DMTCP_EVENT_CLOSE_FD,
  DMTCP_EVENT_DUP_FD,
  DMTCP_EVENT_VIRTUAL_TO_REAL_PATH,
  DMTCP_EVENT_REAL_TO_VIRTUAL_PATH,
  nDmtcpEvents
} DmtcpEvent_t;

/* What comes with an event (DMTCP's layout). ckpt fills preExec.filename
 * (serializationFd -1, no argv/envp) and resumeUserThreadInfo.isRestart
 * (RUNNING); the rest is zero. */
typedef union _DmtcpEventData_t {
  struct {
    int serializationFd;
    char *filename;
    size_t maxArgs;
    const char **argv;
    size_t maxEnv;
    const char **envp;
  } preExec;
  struct {
    int serializationFd;
  } postExec;
  struct {
    int isRestart;
  } resumeUserThreadInfo, nameserviceInfo;
  struct {
    int fd;
    const char *path;
    int flags;
    mode_t mode;
  } openFd;
  struct {
    int fd;
    const char *path;
    int flags;
  } reopenFd;
  struct {
    int fd;
  } closeFd;
  struct {
    int oldFd;
    int newFd;
  } dupFd;
  struct {
    char *path;
  } realToVirtualPath, virtualToRealPath;
} DmtcpEventData_t;

typedef void (*HookFunctionPtr_t)(DmtcpEvent_t, DmtcpEventData_t *);

#define DMTCP_PLUGIN_API_VERSION "4"
#ifndef DMTCP_PACKAGE_VERSION
#define DMTCP_PACKAGE_VERSION "ckpt"
#endif

typedef struct {
  const char *pluginApiVersion;
  const char *dmtcpVersion;
  const char *pluginName;
  const char *authorName;
  const char *authorEmail;
  const char *description;
  void (*event_hook)(const DmtcpEvent_t event, DmtcpEventData_t *data);
} DmtcpPluginDescriptor_t;

/* Registers a plugin: its hook receives the events above from now on, in
 * registration order (RESUME, RESTART, RUNNING and EXIT in reverse). At
 * most 32 plugins per process; the descriptor is copied, its strings must
 * stay. Without ckpt (no libckpt.so) the macro does nothing. */
void dmtcp_register_plugin(DmtcpPluginDescriptor_t descr) __attribute__((weak));
#define dmtcp_register_plugin(d) (dmtcp_register_plugin ? dmtcp_register_plugin(d) : (void)0)

/* DMTCP_DECL_PLUGIN(descriptor) in a library defines its
 * dmtcp_initialize_plugin, which ckpt calls at start-up (through the
 * dynamic linker: the first definition in search order, which calls the
 * next): so a library preloaded with the program (ckpt_launch --with-plugin)
 * registers itself. A program's own definition is found only if the program
 * exports it (-rdynamic); a program simply calls dmtcp_register_plugin. */
void dmtcp_initialize_plugin(void) __attribute__((weak));
#define DMTCP_DECL_PLUGIN(descr)                                              \
  EXTERNC void dmtcp_initialize_plugin(void) {                                 \
    dmtcp_register_plugin(descr);                                              \
    void (*next_initialize)(void) = NEXT_FNC(dmtcp_initialize_plugin);         \
    if (next_initialize) next_initialize();                                    \
  }

/* Inside a hook at PRESUSPEND, PRECHECKPOINT, RESUME or RESTART: returns
 * once every process of the computation (local: of this host) got as far,
 * i.e. called the same barrier or finished that step of the checkpoint
 * without calling it (ckpt_plugin_barrier in ckpt/plugin.h). Anywhere else,
 * and when the checkpoint is abandoned meanwhile, it returns at once. */
void dmtcp_global_barrier(const char *barrier) __attribute__((weak));
#define dmtcp_global_barrier(b) (dmtcp_global_barrier ? dmtcp_global_barrier(b) : (void)0)
void dmtcp_local_barrier(const char *barrier) __attribute__((weak));
#define dmtcp_local_barrier(b) (dmtcp_local_barrier ? dmtcp_local_barrier(b) : (void)0)

#ifdef __cplusplus
}
#endif

#endif /* CKPT_DMTCP_COMPAT_H */
