/* The public plugin and application API of libckpt.
 *
 * Applications and third-party plugins use exactly this header; so do the
 * core's own subsystems in plugins/ (pids, signals, timers, ...).
 *
 * A program that is not running under ckpt_launch can still call these: link
 * with -lckpt, or declare them weak and test for NULL.
 */
#ifndef CKPT_PLUGIN_H
#define CKPT_PLUGIN_H

#include <stddef.h>
#include <signal.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ckpt_event {
  /* libckpt is initialised in a new process (launch, fork or exec). Runs in
   * the constructor, before main. */
  CKPT_EVENT_INIT = 0,
  /* A checkpoint begins. Application threads still run: locks and malloc
   * are safe. atcheckpoint callbacks run here. */
  CKPT_EVENT_PRE_SUSPEND,
  /* All application threads are frozen. Save state now. Do not allocate,
   * take locks, or call stdio: a frozen thread may hold them. Use
   * ckpt_save_section() to put state into the image. */
  CKPT_EVENT_PRE_CHECKPOINT,
  /* Threads frozen; pull in-flight data out of kernel buffers. */
  CKPT_EVENT_DRAIN,
  /* The snapshot is taken (the image is being written in the background);
   * put drained data back. Threads are still frozen. */
  CKPT_EVENT_RESUME,
  /* The process was just restored from an image. Threads are frozen; the
   * whole address space is back. Restore kernel state here. `data` points to
   * a struct ckpt_restart_info. */
  CKPT_EVENT_RESTART,
  /* Threads run again after a restart. atrestart callbacks run here. */
  CKPT_EVENT_RESTART_RESUMED,
  /* The process is exiting (exit, or return from main; an exec is
   * CKPT_EVENT_PRE_EXEC). */
  CKPT_EVENT_EXIT,
  /* A thread is about to fork (fork, vfork, clone without CLONE_THREAD,
   * posix_spawn, system, popen). Runs in the parent on the forking thread;
   * no checkpoint can begin until the fork has returned. */
  CKPT_EVENT_PRE_FORK,
  /* In the parent, once the child exists. `data` points to the child's
   * kernel (real) pid_t. */
  CKPT_EVENT_FORK_PARENT,
  /* In the child, right after the fork: only the forking thread exists, the
   * parent's coordinator connection is already dropped, and the child's own
   * checkpoint thread has not started yet. Reset per-process state here. */
  CKPT_EVENT_FORK_CHILD,
  /* The process is about to exec (the exec may still fail, in which case
   * the process simply continues). `data` is the path being executed. */
  CKPT_EVENT_PRE_EXEC,
  /* After a checkpoint (committed or aborted) or a restart: the coordinator
   * has this process's last answer, threads are still frozen and run right
   * after. Nothing done here can hold the checkpoint up (a plugin may stop
   * the whole process here: plugins/signal's job control). */
  CKPT_EVENT_RESUMING,
  /* ckpt_command --kill: the coordinator asks every process to freeze its
   * threads before it kills them. On the checkpoint thread, before the
   * threads are frozen. */
  CKPT_EVENT_FREEZE,
  CKPT_EVENT_COUNT_
} ckpt_event_t;

/* Real thread ids of the restored threads, by the virtual ids the
 * application knows them by. */
struct ckpt_thread_ids {
  pid_t virt_tid;
  pid_t real_tid;
};

struct ckpt_restart_info {
  pid_t virt_pid;
  pid_t real_pid;
  int thread_count;
  const struct ckpt_thread_ids *threads;
};

struct ckpt_plugin {
  const char *name; /* unique, at most 31 characters; names its image section */
  void (*event)(ckpt_event_t event, void *data);
};

/* Registers a plugin; events are delivered in registration order
 * (reverse order for CKPT_EVENT_RESUME and CKPT_EVENT_EXIT). Call it from a
 * constructor. Returns 0, or -1 if the table is full. */
int ckpt_register_plugin(const struct ckpt_plugin *plugin);

/* Application callbacks, as IRIX CPR's atcheckpoint/atrestart: called in
 * registration order. atcheckpoint callbacks run when a checkpoint begins
 * (threads still running); atrestart callbacks run after a restart, once
 * threads run again. Return 0, or -1 if the table is full. */
int ckpt_atcheckpoint(void (*fn)(void));
int ckpt_atrestart(void (*fn)(void));

/* Asks the coordinator for a checkpoint of the whole computation and waits
 * for it. Returns CKPT_CHECKPOINTED after the checkpoint, CKPT_RESTARTED
 * when the process comes back from that checkpoint's image, or -1 if
 * checkpointing is not available (errno set). */
#define CKPT_CHECKPOINTED 1
#define CKPT_RESTARTED 2
int ckpt_checkpoint(void);

/* 1 if this process runs under ckpt_launch/ckpt_restart. */
int ckpt_is_enabled(void);

/* A section of the application that no checkpoint may cut through (DMTCP's
 * dmtcp_disable_ckpt/dmtcp_enable_ckpt): between ckpt_delay_checkpoints() and
 * ckpt_allow_checkpoints() (they nest, and may be called from any thread), a
 * checkpoint that begins waits for the section to end, up to 20 s, then
 * fails with a reason. A call made while a checkpoint is suspending this
 * process waits until the checkpoint is over. Both return 0. */
int ckpt_delay_checkpoints(void);
int ckpt_allow_checkpoints(void);

/* The image file of this process's last committed checkpoint, or the image
 * it was restarted from if it has not checkpointed since; "" before either. */
const char *ckpt_last_image(void);
/* The directory this process's images go to (ckpt_launch --ckptdir; a
 * coordinator's --ckptdir overrides it at each checkpoint). */
const char *ckpt_image_dir(void);
/* Where ckpt keeps this process's temporary files: ckpt_launch's or
 * ckpt_restart's --tmpdir (CKPT_TMPDIR), else $TMPDIR, else /tmp. */
const char *ckpt_tmpdir(void);
/* How many checkpoints of this process were committed, and how many
 * restarts it went through (either pointer may be NULL). */
void ckpt_local_counts(int *checkpoints, int *restarts);

/* A barrier across the processes of the computation, for an event handler
 * that must know every other process got as far (DMTCP's
 * dmtcp_global_barrier and dmtcp_local_barrier). Usable in the events the
 * checkpoint thread delivers within a step of a checkpoint or restart:
 * CKPT_EVENT_PRE_SUSPEND, CKPT_EVENT_PRE_CHECKPOINT, CKPT_EVENT_DRAIN and
 * CKPT_EVENT_RESUME (also the one that follows a restart). Returns 0 once
 * every process of the step that has not yet finished the step has called
 * it with the same name: a process that finishes the step without calling
 * it (it has no plugin that does) is not waited for. CKPT_BARRIER_HOST: only
 * the processes on this host take part. Returns -1 at once anywhere else
 * (another thread, another event, no coordinator), and -1 when the
 * checkpoint is abandoned meanwhile (another process failed, the barrier
 * timed out): the event should then skip the rest of its work; its next
 * event is the one an abandoned checkpoint brings (CKPT_EVENT_RESUME or
 * CKPT_EVENT_RESUMING). Names are at most 255 bytes. */
#define CKPT_BARRIER_ALL 0
#define CKPT_BARRIER_HOST 1
int ckpt_plugin_barrier(const char *name, int scope);

/* During CKPT_EVENT_PRE_CHECKPOINT or CKPT_EVENT_DRAIN: stores a named blob
 * in this process's image (visible with ckpt_info). Returns 0, or -1 if out
 * of space; the checkpoint then fails (ckpt_fail_checkpoint). */
int ckpt_save_section(const char *name, const void *data, size_t len);

/* The outcome of the checkpoint under way. Nothing a process holds may be
 * dropped silently (GUIDE §3.8): a plugin that meets something it cannot save
 * either fails the checkpoint or, if the user accepted losses, warns.
 *
 * ckpt_fail_checkpoint: during CKPT_EVENT_PRE_CHECKPOINT or CKPT_EVENT_DRAIN,
 *   abandons this checkpoint with `reason` (one line, e.g. "fd 7 is an
 *   io_uring instance, which ckpt cannot checkpoint"). The coordinator aborts
 *   it everywhere, ckpt_command --checkpoint exits non-zero naming this
 *   process and the reason, the previous images stay, and the threads run on
 *   (drained data is put back at CKPT_EVENT_RESUME as always). The first
 *   reason wins. A ckpt_save_section() that fails does the same by itself.
 * ckpt_checkpoint_warning: the checkpoint goes on; `text` (one line) is shown
 *   by ckpt_command and kept in the image's "warnings" section.
 * ckpt_loss_accepted: 1 if the user chose to accept losses (ckpt_launch
 *   --accept-loss, CKPT_ACCEPT_LOSS=1): warn and save a placeholder instead
 *   of failing. */
void ckpt_fail_checkpoint(const char *reason);
void ckpt_checkpoint_warning(const char *text);
/* One warning line in this process's libckpt log (CKPT_LOG_DIR), for what a
 * plugin could not do where no checkpoint is there to fail (after a restart). */
void ckpt_log_warning(const char *text);
int ckpt_loss_accepted(void);

/* Memory a plugin saves itself (plugins/shm: shared memory, whose bytes
 * other processes write again as soon as they resume, while this process's
 * image is still being written). During CKPT_EVENT_DRAIN, for the mapping
 * [addr, addr + len) (whole regions of /proc/self/maps, page-aligned):
 *   copy != NULL: the image takes the bytes from `copy` (memory laid out like
 *     the mapping, made by the plugin while every process was frozen, kept
 *     until CKPT_EVENT_RESUME); the copy's own mapping is left out of the image.
 *   copy == NULL: the image records the regions without their bytes.
 * Either way the regions are flagged "external": at restart a restart kind
 * supplies them (RestartKind::region_source in ckpt/restart.h), or the
 * restart fails. Claims last for one checkpoint. Returns 0, or -1 (not
 * page-aligned, too many); the checkpoint then fails. */
int ckpt_save_region_bytes(const void *addr, size_t len, const void *copy);

/* Memory [addr, addr + len) is about to be registered with a userfaultfd of
 * the application's own (UFFDIO_REGISTER): ckpt stops tracking writes to it
 * there, which would make that registration fail with EBUSY; images save
 * that memory whole from then on. Safe to call from any thread at any time. */
void ckpt_untrack_memory(const void *addr, size_t len);

/* Descriptors saved by a plugin other than the descriptor plugin (plugins/fd),
 * which fails the checkpoint for any descriptor it cannot save itself and that
 * nobody claimed. Claim during CKPT_EVENT_PRE_CHECKPOINT (the descriptor
 * plugin decides at CKPT_EVENT_DRAIN); claims last for one checkpoint.
 * ckpt_claim_fd returns 0, or -1 for a number out of range. */
int ckpt_claim_fd(int fd);
int ckpt_fd_claimed(int fd);

/* Data shared with every process of the computation, wherever it runs (a
 * listener's new address, the connections a process holds), carried by the
 * coordinator:
 *   ckpt_share: during CKPT_EVENT_PRE_CHECKPOINT or CKPT_EVENT_RESTART, adds
 *     `len` bytes under `name` (at most 31 characters; in all, at most 1 MiB
 *     per checkpoint for the whole computation). Returns 0, or -1.
 *   ckpt_for_each_shared: during CKPT_EVENT_DRAIN (what every process shared
 *     at PRE_CHECKPOINT, this one's included) or the CKPT_EVENT_RESUME that
 *     follows a restart (what they shared at CKPT_EVENT_RESTART): calls
 *     fn(data, len, arg) for each piece shared under `name`, until fn
 *     returns non-zero. Allocation-free. Returns 0. */
int ckpt_share(const char *name, const void *data, size_t len);
int ckpt_for_each_shared(const char *name, int (*fn)(const void *data, size_t len, void *arg), void *arg);

/* The address of this host as the coordinator sees it (the address this
 * host sends from to reach the coordinator, port 0): where processes on
 * other hosts can reach this one. Also at CKPT_EVENT_RESTART. Fills `addr`
 * (a struct sockaddr of at most `cap` bytes) and returns its length, or -1. */
int ckpt_host_address(void *addr, size_t cap);

/* Pid virtualization (plugins/pid): the id the application knows for a
 * kernel pid or tid, and back. Ids the table does not know map to themselves. */
pid_t ckpt_virtual_pid(pid_t real);
pid_t ckpt_real_pid(pid_t virt);

/* Path virtualization (plugins/path): the application names files under
 * the VIRTUAL prefixes of ckpt_launch/ckpt_restart --path-map, the kernel
 * sees them under REAL. Every wrapper that passes a path to the kernel
 * sends it through ckpt_path_to_real; every one that returns a path the
 * kernel gave (readlink, getcwd, realpath) through ckpt_path_to_virtual.
 *
 * ckpt_path_to_real: `path` itself when no map is set, it is not absolute,
 *   no VIRTUAL prefix covers it, or it cannot be read (the real call then
 *   answers EFAULT); else `buf` (of `cap` bytes) holding the REAL path.
 * ckpt_path_to_virtual: rewrites in place the `len` bytes at `buf` (a
 *   buffer of `cap` bytes, not NUL-terminated: a readlink result), returns
 *   the new length, at most `cap` (a longer result is cut, as readlink
 *   cuts). Returns `len` when nothing changes.
 * Neither allocates nor takes locks. */
const char *ckpt_path_to_real(const char *path, char *buf, size_t cap);
size_t ckpt_path_to_virtual(char *buf, size_t len, size_t cap);

/* Calls fn(virtual pid, kernel pid, arg) for every live process of the
 * computation, this process first, until fn returns non-zero. Allocation-free
 * (the pid plugin's shared table): usable at CKPT_EVENT_DRAIN, when every
 * process is frozen. Returns 0. */
int ckpt_for_each_process(int (*fn)(pid_t virt, pid_t real, void *arg), void *arg);

/* A wrapper whose system call carries values that a restart changes (a
 * real pid, say) must not let the kernel restart that call after a checkpoint
 * with the old values: after a restart under new pids, a waitpid(child) that
 * was blocked at checkpoint time would wait for a process that is not there.
 * Between ckpt_translated_call_begin() and ckpt_translated_call_end(), a
 * checkpoint that interrupts the thread in a system call makes that call fail
 * with EINTR when the thread resumes (after the checkpoint or in a restarted
 * process). ckpt_translated_call_interrupted(mark, restartable), with the
 * mark that begin returned, then says 1: translate the arguments again and
 * reissue the call. It says 0 when one of the application's own handlers
 * also ran in the thread meanwhile and would have made the call fail without
 * ckpt: any handler for a call the kernel never restarts (restartable = 0:
 * semop, msgrcv, sigsuspend ...), a handler without SA_RESTART for one it
 * restarts (restartable = 1: wait4 ...). The application then sees its
 * EINTR. A call that failed otherwise after such an interruption (ECHILD,
 * ESRCH) may also have used stale values. Brackets nest. */
typedef struct ckpt_call_mark {
  unsigned long checkpoints;         /* suspensions of this thread */
  unsigned long handlers;            /* the application's handlers run in it */
  unsigned long handlers_no_restart; /* ... of them without SA_RESTART */
} ckpt_call_mark;
ckpt_call_mark ckpt_translated_call_begin(void);
void ckpt_translated_call_end(void);
int ckpt_translated_call_interrupted(ckpt_call_mark mark, int restartable);

/* For plugins/signal's trampolines, which run every handler the application
 * installs through sigaction/signal: one of them is about to run in this
 * thread (restarts: it has SA_RESTART). Async-signal-safe. */
void ckpt_application_handler_ran(int restarts);

/* libckpt's own descriptors (coordinator connection, log, eventfds, plugin
 * files ...) live in a protected range near the top of the soft
 * RLIMIT_NOFILE. The application cannot close them (close, close_range and
 * closefrom skip them; close of one fails with EBADF), and a dup2/dup3 onto
 * one first moves ours elsewhere. Checkpoint plugins skip them.
 *
 * ckpt_is_protected_fd: 1 if fd is one of libckpt's.
 * ckpt_protect_fd: moves fd into the protected range (close-on-exec) and
 *   returns its new number; *owner (if not NULL) always holds the current
 *   number, also after a later move. If the range is full, fd stays where it
 *   is, unprotected.
 * ckpt_close_protected_fd: closes one of ours (close() refuses to). */
int ckpt_is_protected_fd(int fd);
int ckpt_protect_fd(int fd, int *owner);
void ckpt_close_protected_fd(int fd);

/* The signal libckpt uses to suspend threads; applications must leave it alone. */
int ckpt_suspend_signal(void);
/* A thread that blocks the suspend signal cannot be stopped at a checkpoint:
 * wrappers that let the application set a signal mask (sigprocmask,
 * pthread_attr_setsigmask_np, ppoll ...) pass the kernel this instead.
 * Returns `set` itself when there is nothing to change (NULL, or libckpt
 * inactive), else `copy` holding `set` with the suspend signal unblocked. */
const sigset_t *ckpt_without_suspend_signal(const sigset_t *set, sigset_t *copy);

/* For plugins/pid's syscall() wrapper: the futex system call (arguments as
 * syscall(SYS_futex, ...) takes them, result as it returns), whose waits
 * are issued again after the suspend signal interrupted them, as libckpt's
 * wrappers of the C library's blocking calls are: a FUTEX_WAIT's relative
 * timeout with the time that was left, the other waits with their absolute
 * deadline. EINTR when one of the application's handlers ran. */
long ckpt_syscall_futex(long uaddr, long op, long val, long timeout, long uaddr2, long val3);

#ifdef __cplusplus
}
#endif

#endif /* CKPT_PLUGIN_H */
