// libckpt's internal interfaces, shared by the core's modules (not by plugins:
// they use include/ckpt/plugin.h only).
#pragma once

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include <atomic>

#include "ckpt/auth.h"
#include "ckpt/checkpoint_stats.h"
#include "ckpt/plugin.h"
#include "image_format.h"

struct ckpt_restart_handoff;

namespace ckpt {

// ---- configuration (from the environment ckpt_launch sets) ----
struct Config {
  char coord_host[256];
  uint16_t coord_port;
  char ckptdir[4096];
  unsigned interval;
  bool compress;
  int compress_threads;  // CKPT_COMPRESS_THREADS: see image::compress_threads()
  bool fsync;            // CKPT_FSYNC: images are durable (ImageWriter::open)
  bool accept_loss;  // CKPT_ACCEPT_LOSS: what cannot be saved becomes a placeholder, with a warning
  int suspend_signal;
  char progname[64];
  char unique_id[64];  // names this process's images; survives restarts
  // The computation's secret (ckpt/auth.h), read from secret_file
  // (CKPT_SECRET_FILE) at the first connection or handed over by
  // ckpt_restart; without it no coordinator accepts us.
  char secret_file[4096];
  auth::Secret secret;
  bool have_secret;
  // The computation this process belongs to (protocol.h WelcomePayload): 0
  // until the coordinator's first Welcome; inherited across fork and exec.
  uint64_t computation_id;
  // The host this process runs on, as the computation names it: in its
  // Hello, its images and ckpt_command --list. CKPT_HOST_NAME (set by
  // ckpt_launch --host-name, the remote-shell rewrite, or ckpt_restart for
  // the processes it restores), else the kernel's node name.
  char host_name[64];
  // CKPT_RSH: the remote shell ("ssh", "ip netns exec"); its commands are
  // rewritten to join this computation (remote_shell.h).
  char rsh[1024];
  // <prefix>/bin/ckpt_launch next to this library: what a remote command runs
  // under (the same install path on every host).
  char launch_path[4096];
  // Where ckpt keeps this process's temporary files (the default log
  // directory; dmtcp_get_tmpdir): CKPT_TMPDIR (ckpt_launch/ckpt_restart
  // --tmpdir), else $TMPDIR, else /tmp.
  char tmpdir[4096];
  // CKPT_MODIFY_ENV (ckpt_launch --modify-env): every restart applies
  // dmtcp_env.txt from the image's directory to the environment (restart_env.h).
  bool modify_env;
  // Incremental checkpoints (CKPT_INCREMENTAL, default on): after a full
  // image, write only the pages written since; a full one again once a
  // chain holds full_every images (CKPT_FULL_EVERY).
  bool incremental;
  unsigned full_every;
};
extern Config g_config;

// A fresh identity for a new process's images: host, pid and time.
void make_unique_id(char* out, size_t cap);
// True when libckpt runs in this process (ckpt_launch or ckpt_restart set it up).
bool libckpt_active();

// ---- raw system call helpers (no errno games, no locks) ----
pid_t raw_getpid();
pid_t raw_gettid();

// The C library's sigaction, bypassing the application-facing wrapper.
int ckpt_real_sigaction(int sig, const struct sigaction* act, struct sigaction* old);

// ---- threads (threads.cpp) ----
using image::kMaxThreads;

struct ThreadSlot {
  std::atomic<int> state;  // SlotState
  pid_t real_tid;
  pid_t virt_tid;
  image::ThreadRecord rec;  // filled by the thread itself in the suspend handler
};
enum SlotState : int { kSlotFree = 0, kSlotSignalled, kSlotParked };

// Stops every thread but the caller; returns the number of threads parked,
// or -1 with a reason in `error` (threads are resumed again in that case).
int suspend_threads(char* error, size_t error_len);
// Lets parked threads run again.
void resume_threads();
// After a restart: waits until every restored thread has parked again and
// learned its new kernel tid. Returns the number of threads.
int await_restored_threads(int expected);
// The slots of parked threads, for the snapshot.
int parked_slots(ThreadSlot** out, int max);
void install_suspend_handler();
// Called by the checkpoint thread for its own record.
void fill_thread_record(image::ThreadRecord& rec, uint32_t flags);

// Counts EINTRs caused by libckpt (per thread), for the retry wrappers, and
// the application's own handlers that ran in the thread: a call that both
// interrupted must fail with EINTR, as without ckpt (plugins/signal counts).
struct ThreadPause {
  uint64_t interruptions;
  uint64_t handlers;             // the application's handlers run
  uint64_t handlers_no_restart;  // ... of them, those without SA_RESTART
  int64_t suspended_at_ns;  // CLOCK_MONOTONIC when the last suspension began
  int64_t resumed_at_ns;    // ... and when it ended (possibly in a later boot)
  int translated_calls;     // depth of ckpt_translated_call_begin (plugin.h)
};
ThreadPause& this_thread_pause();
// CLOCK_MONOTONIC in ns (the vDSO: async-signal-safe, no lock).
int64_t monotonic_ns();

// ---- the fork gate (fork_gate.cpp) ----
// A forking thread holds the gate from before the fork until the child is
// registered; the suspend step closes it and waits for forks in progress.
void fork_gate_enter();
void fork_gate_leave();
// False if a fork still ran after timeout_ms (the gate stays closed: open it).
bool fork_gate_close(int timeout_ms);
void fork_gate_open();
// In a fork child: only the calling thread's own fork is in progress.
void fork_gate_reset_in_child();

// ---- lazy restart (lazy_load.cpp) ----
// After a lazy restart: `fd` is the page server's socket, the load pending.
void lazy_load_begin(int fd, int64_t restart_started_ns);
// The socket while the load is pending (the checkpoint thread polls it), else -1.
int lazy_load_fd();
// The socket is readable: take the server's message (once, whoever comes first).
void lazy_load_poll();
// Returns once every page is in (at once without a lazy restart). Any thread.
void wait_for_lazy_load();

// ---- protected descriptors (protected_fds.cpp) ----
// Moves fd into the protected range; *owner (optional) follows later moves.
int protect_fd(int fd, int* owner);
bool is_protected_fd(int fd);
// Closes one of ours (the close() wrapper refuses to).
void close_own_fd(int fd);
// Before a dup2/dup3 onto one of ours: our copy moves elsewhere in the range
// (its owner learns the new number). Returns the new number, -1 if the range is full.
int move_protected_fd_away(int fd);
// Ours, ascending.
int list_protected_fds(int* out, int max);
// Between making a descriptor of ours and protect_fd() it sits at a number
// the application could have: a fork then would give the child a copy that
// nobody there knows (its fd plugin would find a stray socket). The
// checkpoint thread, the one that makes ours while the application runs (the
// coordinator connection), holds this window; checkpointed_fork() waits for
// it. Never held across anything that blocks.
void own_fd_window_enter();
void own_fd_window_leave();
// After a restart: the recorded numbers belonged to the old process.
void forget_protected_fds();

// ---- process creation (fork.cpp) ----
// The C library's fork, bypassing our wrapper.
pid_t real_fork();
// ---- the image (snapshot.cpp) ----
// Saves the "layout" section (libckpt/image/layout_section.h): at
// PRE_CHECKPOINT, while the other threads are parked.
void save_layout_section();

// After a restart: fork's own pipe numbers belonged to the old process, and
// a parent waiting for its child's exec (vfork, posix_spawn) stops waiting.
void forget_fork_state_after_restart();
// read() of one of our child pipes, retried across checkpoints; returns
// kPipeGoneAfterRestart if the process was restarted meanwhile (the number
// is not ours any more: do not close it).
inline constexpr ssize_t kPipeGoneAfterRestart = -2;
ssize_t read_own_pipe(int fd, void* buf, size_t len);
// fork() as the application sees it: the child joins the computation.
// `child_keeps` (or -1) is a pipe end from child_pipe() for this child.
pid_t checkpointed_fork(int child_keeps);
// vfork() as the application sees it: a checkpointed fork whose parent
// returns once the child has exec'ed or exited.
pid_t vfork_like_fork();
// clone() flags that describe a plain fork or a vfork.
bool clone_is_fork_like(int flags);
// A close-on-exec pipe among our protected descriptors whose write end only
// the next child forked with checkpointed_fork(fds[1]) keeps: it closes at
// that child's exec or exit.
int child_pipe(int fds[2]);
void parent_done_with_child_pipe(int write_end);
void child_done_with_pipe(int read_end);
// Parent: blocks until the child exec'ed or exited; true if it did so
// without writing anything. Closes read_end.
bool wait_for_exec_or_exit(int read_end);
// In a fork child: another thread of the parent may have been exec'ing.
void exec_state_after_fork();
// execve (or execvpe with use_path) through our exec wrappers.
int exec_program(const char* file, char* const argv[], char* const envp[], bool use_path);

// ---- plugin manager (plugins.cpp) ----
void dispatch_event(ckpt_event_t event, void* data);
void run_atcheckpoint_callbacks();
void run_atrestart_callbacks();
// Sections saved during PRE_CHECKPOINT; cleared at the start of each checkpoint.
void sections_reset();
using image::kMaxSections;
struct SavedSection {
  char name[32];
  uint32_t size;
  const void* data;
};
int sections_list(SavedSection* out, int max);
// Memory plugins save themselves (ckpt_save_region_bytes), claimed during
// this checkpoint's DRAIN; cleared with the sections.
struct RegionClaim {
  uint64_t start, end;  // the claimed mapping
  const char* copy;     // its bytes, laid out the same; null: the image holds none
};
int region_claims(const RegionClaim** out);
// What plugins said of the checkpoint under way: cleared when it begins.
void outcome_reset();
// The first ckpt_fail_checkpoint() reason, or null.
const char* outcome_failure();
// ckpt_checkpoint_warning() texts, each ending in '\n'.
const char* outcome_warnings(size_t* len);

// ---- data shared through the coordinator (shared_data.cpp) ----
// What this process's plugins shared, to send with the next Reached.
const char* shared_out(size_t* len);
void shared_out_clear();
// Everybody's, from an Advance: its payload after the AdvancePayload, in
// two parts (what fit the receive buffer, and the rest).
void shared_in_set(const char* head, size_t head_len, const char* tail, size_t tail_len);
void shared_in_clear();

// ---- checkpoint thread (checkpoint_thread.cpp) ----
void start_checkpoint_thread();
// For ckpt_checkpoint(): asks the checkpoint thread to request one; returns
// CKPT_CHECKPOINTED / CKPT_RESTARTED / -1.
int request_checkpoint_and_wait();
// This process's last committed image, or the image it was restarted from
// if none since; "" before any.
const char* last_image_path();
// Committed checkpoints and restarts this process went through.
void local_counts(int* checkpoints, int* restarts);
bool checkpoint_thread_running();
// ckpt_untrack_memory (ckpt/plugin.h): write tracking lets go of [start, end).
void untrack_memory(uint64_t start, uint64_t end);
// ckpt_plugin_barrier (ckpt/plugin.h).
int plugin_barrier(const char* name, int scope);
// Makes the checkpoint thread look at its descriptors again (one moved).
void wake_checkpoint_thread();
// In a forked child that runs outside the computation: the checkpoint thread
// did not survive the fork, and the parent's descriptors are not ours.
void forget_checkpoint_thread();
// In a forked child that joins the computation: drops the parent's
// coordinator connection and checkpoint state (closing our copies of its
// descriptors) and takes a new identity.
void checkpoint_state_after_fork();
// Connects and registers with the coordinator now (Hello, then Welcome),
// waiting at most timeout_ms; false if no coordinator answered. The
// checkpoint thread, started afterwards, goes on with the connection.
bool register_with_coordinator(int timeout_ms);

// Exec hand-over (exec.cpp). The exec'ing thread parks the checkpoint thread
// between two messages once no checkpoint of ours is in flight (false if
// that did not happen within timeout_ms), passes the connection to the new
// program, and unparks it if the exec fails.
bool park_checkpoint_thread(int timeout_ms);
void unpark_checkpoint_thread();
// While parked: the coordinator connection (-1: none).
int coordinator_fd();
// While parked: closes the connection; the coordinator sees the process leave.
void leave_coordinator();
// While parked: what the new program needs to go on as the same worker
// (generation, unique id, image names); returns the length.
size_t exec_handover_state(char* buf, size_t cap);
// In the new program, before the checkpoint thread starts.
void adopt_exec_handover(int fd, const char* state);

// ---- snapshot writer (snapshot.cpp); runs in the forked child ----
struct MapEntry;
struct IncrementalPlan;
// Whether the image saves mapping `m` as this process's private memory,
// page by page (its pages can be tracked for incremental images).
bool saves_private_pages(const MapEntry& m, const RegionClaim* claims, int claim_count);

struct SnapshotRequest {
  const char* image_path;
  bool compress;
  int compress_threads;  // Config::compress_threads
  bool fsync;            // Config::fsync
  bool accept_loss;  // CKPT_ACCEPT_LOSS: what cannot be saved becomes a placeholder, with a warning
  uint64_t generation;
  uint32_t computation_size;
  image::ThreadRecord checkpointer;  // the checkpoint thread's own record
  uint64_t restart_info_slot;
  pid_t virt_ppid;  // the checkpointed process's parent (the writer's parent is the process)
  // The checkpointed process, taken before the writer is forked: the writer
  // may run after the process resumed and exited (a short-lived program),
  // when its getppid() would name init and the pid table no longer hold it.
  pid_t real_pid;
  pid_t virt_pid;
  // Full or incremental, and for an incremental image which pages are new.
  const IncrementalPlan* plan;
};
// Writes the image; on failure fills `error` and returns false. Memory it
// could save only as a placeholder (losses accepted) is named in `warnings`,
// one line each.
// `figures` gets what the writer counted (ckpt/checkpoint_stats.h), complete
// when it returns true.
bool write_snapshot(const SnapshotRequest& req, char* error, size_t error_len, char* warnings, size_t warnings_len,
                    stats::WrittenFigures& figures);

// Set by the restorer: where the hand-off block lives after a restart.
extern ckpt_restart_handoff* volatile g_restart_handoff;

}  // namespace ckpt

extern "C" int ckpt_save_context(ckpt::image::ThreadContext* ctx) __attribute__((returns_twice));
