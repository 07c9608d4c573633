// The checkpoint thread: one per process. It talks to the coordinator and
// walks the process through the barriers of a checkpoint (GUIDE §1):
//
//   Suspended     atcheckpoint callbacks, freeze user threads, PRE_CHECKPOINT
//   Drained       DRAIN
//   Checkpointed  fork a copy-on-write snapshot child that writes the image
//   Refilled      RESUME, user threads run again (the image is still being written)
//   Written       reported when the snapshot child has committed the image
//
// The checkpoint thread's own context is saved right before the fork; after a
// restart the thread comes back from that point (ckpt_save_context returns 1)
// and takes the restart path instead.
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <utility>

#include "../restore/restore_args.h"
#include "coord_client.h"
#include "ckpt/environment.h"
#include "ckpt/image_names.h"
#include "ckpt/proc_dir.h"
#include "ckpt/raw_syscall.h"
#include "core.h"
#include "log.h"
#include "restart_env.h"
#include "write_tracker.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace ckpt {

ckpt_restart_handoff* volatile g_restart_handoff = nullptr;

namespace {

using proto::Barrier;
using proto::MsgType;

constexpr int kReconnectMs = 1000;
constexpr int kRestartConnectMs = 5000;
constexpr int kForkConnectMs = 1000;

CoordClient g_coord;
// A message's payload beyond kReceiveCap bytes (shared data, ckpt_share).
constexpr size_t kReceiveCap = sizeof(proto::AdvancePayload) + 4096;
MappedBuffer g_receive_rest;
std::atomic<bool> g_running{false};
int g_wake_fd = -1;
std::atomic<bool> g_checkpoint_requested{false};

// Exec hand-over (exec.cpp): the checkpoint thread must be parked between
// two messages, with no checkpoint of ours in flight. While it waits in
// poll() in that state it says so (kIdle), and the exec'ing thread parks it
// by itself with one compare-and-swap, without waking it and waiting until
// it is scheduled (on a loaded machine a thread created just before, by a
// fork child about to exec, may wait milliseconds for its first slice).
// Otherwise the exec'ing thread requests a park and waits for it.
enum ParkState : int { kRunning = 0, kIdle, kParkRequested, kParked };
std::atomic<int> g_park{kRunning};

// ckpt_checkpoint() waiters sleep on g_done_word; the outcome is in the rest.
std::atomic<int> g_done_word{0};
std::atomic<int> g_restart_count{0};
std::atomic<int> g_committed_count{0};  // checkpoints of this process that were committed
std::atomic<bool> g_last_ok{false};

struct CheckpointState {
  uint64_t generation = 0;
  uint32_t computation_size = 1;
  bool suspended = false;
  bool resume_after_restart = false;  // Refilled must also run the restart callbacks
  int writer_pidfd = -1;
  pid_t writer_pid = -1;
  int writer_err_fd = -1;
  char image_path[4096] = {};
  // image_path is this checkpoint's, not committed yet: a failed checkpoint
  // removes it.
  bool image_pending = false;
  char last_image[4096] = {};  // the image of this process's last committed checkpoint (ckpt_last_image)
  // An Abort (or the coordinator's loss) met by a plugin barrier while a
  // plugin waited inside an event: acted on once that event's dispatch
  // returns, for generation abort_generation.
  bool abort_pending = false;
  uint64_t abort_generation = 0;
  // CLOCK_MONOTONIC when the threads were told to stop: REFILLED reports the pause.
  int64_t suspend_started_ns = 0;
  // After a restart, until it runs: ckpt_restart's start (CLOCK_MONOTONIC on
  // this host) and whether memory comes from the image on first touch.
  int64_t restart_started_ns = 0;
  bool restart_lazy = false;
};
CheckpointState g_cp;
// Pages written since this process's last committed image (incremental
// checkpoints). Apart from g_cp: a fork child starts g_cp afresh by
// assignment, while the tracker owns buffers and a descriptor to let go of.
WriteTracker g_tracker;
IncrementalPlan g_plan;  // the snapshot in flight's, read by its writer (a copy-on-write child)

// The checkpoint thread's kernel tid: plugin barriers are only for its events.
std::atomic<pid_t> g_checkpoint_tid{0};

// The checkpoint thread's own record, saved right before the snapshot fork.
image::ThreadRecord g_self_record;
ckpt_thread_ids g_restart_ids[kMaxThreads];

// Reached(REFILLED) with the figures only this process knows: the pause of a
// checkpoint, or how long a restart took to get here.
void send_refilled(const proto::MsgHeader& refilled) {
  const int64_t now = monotonic_ns();
  if (g_cp.resume_after_restart) {
    stats::RestartFigures f{stats::kVersion, g_cp.restart_lazy ? 1u : 0u,
                            static_cast<uint64_t>(now > g_cp.restart_started_ns ? now - g_cp.restart_started_ns : 0)};
    g_coord.send(MsgType::Reached, refilled.generation, refilled.arg, &f, sizeof f);
  } else {
    stats::RefilledFigures f{stats::kVersion, 0,
                             static_cast<uint64_t>(now > g_cp.suspend_started_ns ? now - g_cp.suspend_started_ns : 0)};
    g_coord.send(MsgType::Reached, refilled.generation, refilled.arg, &f, sizeof f);
  }
}

void signal_done(bool ok) {
  g_last_ok.store(ok);
  g_done_word.fetch_add(1);
  sys(SYS_futex, &g_done_word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

void fail_checkpoint(const char* reason) {
  CKPT_LOG(Error, "checkpoint %lu failed: %s", static_cast<unsigned long>(g_cp.generation), reason);
  g_coord.send(MsgType::Failed, g_cp.generation, 0, reason, strlen(reason) + 1);
}

void say_hello(bool is_restart) {
  proto::HelloPayload hello{};
  hello.real_pid = raw_getpid();
  hello.virt_pid = ckpt_virtual_pid(hello.real_pid);
  hello.is_restart = is_restart;
  hello.computation_size = g_cp.computation_size;
  hello.interval_request = g_config.interval;
  hello.generation = g_cp.generation;
  format_to(hello.hostname, sizeof hello.hostname, "%s", g_config.host_name);
  format_to(hello.progname, sizeof hello.progname, "%s", g_config.progname);
  format_to(hello.unique_id, sizeof hello.unique_id, "%s", g_config.unique_id);
  format_to(hello.ckptdir, sizeof hello.ckptdir, "%s", g_config.ckptdir);
  hello.computation_id = g_config.computation_id;
  g_coord.send(MsgType::Hello, g_cp.generation, 0, &hello, sizeof hello);
}

// Whether this process tried to read the secret (it is read once, at the
// first connection). A fork child forgets it: its parent's checkpoint thread
// may have been between this mark and the secret itself when the
// application forked, and the child would never read the secret and never
// join (seen under load: a child forked right at launch).
bool g_secret_read = false;

// Connects and authenticates. A coordinator that fails the handshake (or
// refuses ours, reported by handle_message) is logged once, not at every retry.
bool connect_with_secret(int timeout_ms) {
  static bool refusal_logged = false;
  bool& secret_read = g_secret_read;
  if (!g_config.have_secret && !secret_read) {
    // Missing, the program runs, but no coordinator will take it: say so once.
    secret_read = true;
    char why[512];
    g_config.have_secret =
        g_config.secret_file[0] && auth::read_secret(g_config.secret_file, g_config.secret, why, sizeof why);
    if (!g_config.have_secret)
      CKPT_LOG(Error, "no secret for the coordinator: %s; this process cannot be checkpointed",
               g_config.secret_file[0] ? why : CKPT_ENV_SECRET_FILE " is not set");
  }
  if (!g_config.have_secret) return false;
  char why[256];
  why[0] = '\0';
  if (g_coord.connect(timeout_ms, g_config.secret, why, sizeof why)) return true;
  if (why[0] && !refusal_logged) {
    refusal_logged = true;
    CKPT_LOG(Error, "coordinator %s:%u: %s", g_config.coord_host, g_config.coord_port, why);
  }
  return false;
}

bool connect_coordinator(bool is_restart, int timeout_ms) {
  if (!connect_with_secret(timeout_ms)) return false;
  say_hello(is_restart);
  CKPT_LOG(Info, "connected to coordinator %s:%u", g_config.coord_host, g_config.coord_port);
  return g_coord.connected();
}

void discard_pending_image();
void reap_writer(bool kill_it);

// `refilled`: the Advance(REFILLED) being answered, or null. The answer goes
// out before the threads run: a process that exits at once (a short-lived
// child about to finish) must not leave before the coordinator heard it.
void resume_user_threads(const proto::MsgHeader* refilled = nullptr) {
  if (!g_cp.suspended) {
    if (refilled) g_coord.send(MsgType::Reached, refilled->generation, refilled->arg);
    dispatch_event(CKPT_EVENT_RESUMING, nullptr);
    return;
  }
  dispatch_event(CKPT_EVENT_RESUME, nullptr);
  // Abandoned while a plugin waited at a barrier in RESUME: the threads run
  // again all the same; the image belongs to no generation.
  const bool abandoned = std::exchange(g_cp.abort_pending, false);
  if (refilled && !abandoned) send_refilled(*refilled);
  dispatch_event(CKPT_EVENT_RESUMING, nullptr);
  if (abandoned) {
    reap_writer(true);
    if (g_cp.abort_generation == g_cp.generation) discard_pending_image();
    signal_done(false);
  }
  resume_threads();
  g_cp.suspended = false;
  if (g_cp.resume_after_restart) {
    g_cp.resume_after_restart = false;
    dispatch_event(CKPT_EVENT_RESTART_RESUMED, nullptr);
    run_atrestart_callbacks();
    // ckpt_checkpoint() returns CKPT_RESTARTED only now, after the atrestart
    // callbacks (its caller is not frozen any more, just waiting for this).
    signal_done(true);
  }
}

void reap_writer(bool kill_it) {
  if (g_cp.writer_pidfd < 0) return;
  if (kill_it) {
    sys(SYS_pidfd_send_signal, g_cp.writer_pidfd, SIGKILL, nullptr, 0);
    // The writer names its temporary file after its own pid.
    char tmp[4200];
    format_to(tmp, sizeof tmp, "%s.tmp.%d", g_cp.image_path, g_cp.writer_pid);
    siginfo_t si;
    sys(SYS_waitid, P_PIDFD, g_cp.writer_pidfd, &si, WEXITED | __WALL, nullptr);
    unlink(tmp);
  }
  close_own_fd(g_cp.writer_pidfd);
  close_own_fd(g_cp.writer_err_fd);
  g_cp.writer_pidfd = g_cp.writer_err_fd = -1;
  g_cp.writer_pid = -1;
}

void abort_checkpoint() {
  reap_writer(true);
  resume_user_threads();
  signal_done(false);
}

// The coordinator failed the checkpoint: this process's image of it, if
// written, belongs to no generation.
void discard_pending_image() {
  g_tracker.failed();
  if (g_cp.image_pending) unlink(g_cp.image_path);
  g_cp.image_pending = false;
}

// Reached(b), carrying what the plugins shared (ckpt_share) since the last.
void send_reached_with_shared(uint64_t generation, Barrier b) {
  size_t len = 0;
  const char* shared = shared_out(&len);
  g_coord.send(MsgType::Reached, generation, static_cast<uint64_t>(b), shared, static_cast<uint32_t>(len));
  shared_out_clear();
}

// An Abort a plugin barrier met (CheckpointState::abort_pending), once the
// event is over: the checkpoint is abandoned as if the Abort had come now.
bool act_on_pending_abort() {
  if (!std::exchange(g_cp.abort_pending, false)) return false;
  CKPT_LOG(Warn, "checkpoint %lu abandoned during a plugin barrier",
           static_cast<unsigned long>(g_cp.abort_generation));
  abort_checkpoint();
  if (g_cp.abort_generation == g_cp.generation) discard_pending_image();
  return true;
}

void on_suspend(const proto::MsgHeader& h, const proto::AdvancePayload& adv) {
  g_cp.generation = h.generation;
  g_cp.computation_size = adv.computation_size ? adv.computation_size : 1;
  const char* dir = adv.ckptdir[0] ? adv.ckptdir : g_config.ckptdir;
  if (!names::image_path(g_cp.image_path, sizeof g_cp.image_path, dir, g_config.progname, g_config.unique_id,
                         h.generation)) {
    fail_checkpoint("the image path is too long");
    return;
  }
  g_cp.image_pending = true;
  run_atcheckpoint_callbacks();
  dispatch_event(CKPT_EVENT_PRE_SUSPEND, nullptr);
  if (act_on_pending_abort()) return;
  // Protecting memory for the write tracker takes ~6 ms per GiB: done
  // while the threads still run, the frozen window only re-protects what
  // they write meanwhile. Not after a lazy restart whose page server
  // still fills memory: take_snapshot() waits for it first.
  if (lazy_load_fd() < 0) {
    const RegionClaim* claims = nullptr;
    const int claim_count = region_claims(&claims);
    g_tracker.configure(g_config.incremental, g_config.full_every);
    g_tracker.arm_ahead(claims, claim_count);
  }
  char error[256];
  g_cp.suspend_started_ns = monotonic_ns();
  if (suspend_threads(error, sizeof error) < 0) {
    fail_checkpoint(error);
    return;
  }
  g_cp.suspended = true;
  sections_reset();
  outcome_reset();
  save_layout_section();
  shared_out_clear();
  shared_in_clear();
  dispatch_event(CKPT_EVENT_PRE_CHECKPOINT, nullptr);
  if (act_on_pending_abort()) return;
  if (const char* failure = outcome_failure()) {
    shared_out_clear();
    fail_checkpoint(failure);  // the coordinator's Abort resumes the threads
    return;
  }
  send_reached_with_shared(h.generation, Barrier::Suspended);
}

// Warnings (one per line, each ending in '\n') go to the coordinator one
// message each, before the barrier answer they belong to.
void send_warnings(uint64_t generation, const char* text, size_t len) {
  for (const char* line = text; line < text + len;) {
    const char* end = static_cast<const char*>(memchr(line, '\n', static_cast<size_t>(text + len - line)));
    if (!end) end = text + len;
    g_coord.send(MsgType::Warning, generation, 0, line, static_cast<size_t>(end - line));
    line = end + 1;
  }
}

// DRAIN: the plugins save what they hold. Whatever they could not save fails
// the checkpoint, or (accepted losses) comes with warnings, which go to the
// coordinator and into the image.
void on_drain(const proto::MsgHeader& h) {
  dispatch_event(CKPT_EVENT_DRAIN, nullptr);
  if (act_on_pending_abort()) return;
  size_t len = 0;
  const char* warnings = outcome_warnings(&len);
  if (len > 0 && !outcome_failure()) ckpt_save_section(image::kWarningsSection, warnings, len);
  if (const char* failure = outcome_failure()) {
    fail_checkpoint(failure);
    return;
  }
  send_warnings(h.generation, warnings, len);
  g_coord.send(MsgType::Reached, h.generation, h.arg);
}

void on_restarted();

// In the image writer, once the image is committed. The writer reports on
// the process's own connection (its copy of the socket), so WRITTEN reaches
// the coordinator even if the process exits meanwhile; the connection closes
// only when both are gone.
void report_written(uint64_t generation, const stats::WrittenFigures& figures) {
  proto::WrittenPayload w{};
  w.figures = figures;
  struct stat st;
  if (sys(SYS_newfstatat, AT_FDCWD, g_cp.image_path, &st, 0) == 0) w.image_size = st.st_size;
  format_to(w.image_path, sizeof w.image_path, "%s", g_cp.image_path);
  g_coord.send(MsgType::Reached, generation, static_cast<uint64_t>(Barrier::Written), &w, sizeof w);
}

// In the image writer: the application's descriptors are copies the writer
// does not need. Holding them would keep a pipe's write end open, so a reader
// waiting for EOF would wait until the image is written.
void close_application_fds() {
  for_each_numbered_entry("/proc/self/fd", [](long fd, int dir) {
    if (fd != dir && !is_protected_fd(static_cast<int>(fd))) raw_syscall(SYS_close, fd);
    return true;
  });
}

void take_snapshot(const proto::MsgHeader& h) {
  // After a lazy restart: the writer is a fork, and the write tracker
  // registers memory the page server's userfaultfd may still hold.
  if (lazy_load_fd() >= 0) {
    const int64_t t0 = monotonic_ns();
    wait_for_lazy_load();
    CKPT_LOG(Info, "checkpoint %lu waited %ld ms for the lazy restart's memory", static_cast<unsigned long>(h.generation),
             static_cast<long>((monotonic_ns() - t0) / 1'000'000));
  }
  fill_thread_record(g_self_record, image::kThreadCheckpointer);
  g_self_record.virt_tid = ckpt_virtual_pid(g_self_record.real_tid);
  if (ckpt_save_context(&g_self_record.ctx) != 0) {
    on_restarted();
    return;
  }
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    fail_checkpoint("cannot create a pipe for the image writer");
    return;
  }
  protect_fd(err_pipe[0], &err_pipe[0]);
  protect_fd(err_pipe[1], &err_pipe[1]);
  SnapshotRequest req{};
  req.image_path = g_cp.image_path;
  req.compress = g_config.compress;
  req.compress_threads = g_config.compress_threads;
  req.fsync = g_config.fsync;
  req.generation = h.generation;
  req.computation_size = g_cp.computation_size;
  req.checkpointer = g_self_record;
  req.restart_info_slot = reinterpret_cast<uint64_t>(&g_restart_handoff);
  req.virt_ppid = ckpt_virtual_pid(static_cast<pid_t>(sys(SYS_getppid)));
  req.real_pid = static_cast<pid_t>(sys(SYS_getpid));
  req.virt_pid = ckpt_virtual_pid(req.real_pid);
  // While every user thread is frozen: the written pages are read and
  // protected again before anything can write to them.
  const RegionClaim* claims = nullptr;
  const int claim_count = region_claims(&claims);
  g_tracker.configure(g_config.incremental, g_config.full_every);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  g_tracker.prepare(h.generation, g_cp.image_path, claims, claim_count, g_plan);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  g_plan.prepare_ns = (t1.tv_sec - t0.tv_sec) * 1'000'000'000LL + (t1.tv_nsec - t0.tv_nsec);
  req.plan = &g_plan;

  // A raw clone, not fork(): glibc's fork runs atfork handlers and takes the
  // malloc locks, which frozen threads may hold. No exit signal, so the
  // application never sees a SIGCHLD or a child in wait(); we reap it
  // through its pidfd.
  int pidfd = -1;
  long pid = sys(SYS_clone, CLONE_PIDFD, nullptr, &pidfd, nullptr, nullptr);
  if (pid == 0) {
    // Past RLIMIT_FSIZE a write fails with EFBIG, which names the cause,
    // instead of killing the writer with SIGXFSZ.
    struct kernel_sigaction {
      void (*handler)(int);
      unsigned long flags;
      void (*restorer)();
      uint64_t mask;
    } ignore{SIG_IGN, 0, nullptr, 0};
    sys(SYS_rt_sigaction, SIGXFSZ, &ignore, nullptr, sizeof ignore.mask);
    close_own_fd(err_pipe[0]);
    close_application_fds();
    char error[512];
    static char warnings[4096];
    stats::WrittenFigures figures;
    bool ok = write_snapshot(req, error, sizeof error, warnings, sizeof warnings, figures);
    if (ok) {
      // Before Written, on the same connection: the coordinator still
      // gathers this checkpoint's warnings.
      send_warnings(h.generation, warnings, strlen(warnings));
      report_written(h.generation, figures);
    } else {
      write(err_pipe[1], error, strlen(error));
    }
    sys(SYS_exit_group, ok ? 0 : 1);
  }
  close_own_fd(err_pipe[1]);
  if (pid < 0) {
    close_own_fd(err_pipe[0]);
    g_tracker.failed();
    fail_checkpoint("cannot fork the snapshot process");
    return;
  }
  g_cp.writer_pid = static_cast<pid_t>(pid);
  protect_fd(pidfd, &g_cp.writer_pidfd);
  g_cp.writer_err_fd = err_pipe[0];
  g_coord.send(MsgType::Reached, h.generation, static_cast<uint64_t>(Barrier::Checkpointed));
}

void on_writer_exit() {
  siginfo_t si{};
  sys(SYS_waitid, P_PIDFD, g_cp.writer_pidfd, &si, WEXITED | __WALL, nullptr);
  char error[512] = {};
  ssize_t n = read(g_cp.writer_err_fd, error, sizeof error - 1);
  error[n > 0 ? n : 0] = '\0';
  reap_writer(false);
  if (si.si_code == CLD_EXITED && si.si_status == 0) return;  // the writer reported WRITTEN itself
  char reason[700];
  if (si.si_code == CLD_EXITED)
    format_to(reason, sizeof reason, "%s", error[0] ? error : "image writer failed");
  else
    format_to(reason, sizeof reason, "image writer killed by signal %d", si.si_status);
  char tmp[4200];
  format_to(tmp, sizeof tmp, "%s.tmp.%d", g_cp.image_path, static_cast<int>(si.si_pid));
  unlink(tmp);
  g_tracker.failed();
  fail_checkpoint(reason);
}

// Committed carries the generations kept (--keep): this process's images
// of any other generation up to the committed one go, in the directory it
// writes to (older generations' images, images of checkpoints that never
// committed), with its writers' stray temporary files.
//
// An incremental image needs its parent, and that one its own: the images a
// kept generation's chain goes through stay too (FileHeader lineage, read
// from each image of ours). An image that cannot be read is not anyone's
// known parent.
void remove_unkept_images(uint64_t committed, const uint64_t* kept, size_t kept_count) {
  char dir[sizeof g_cp.image_path];
  format_to(dir, sizeof dir, "%s", g_cp.image_path);
  char* slash = strrchr(dir, '/');
  if (!slash) return;
  *slash = '\0';
  // Our images and their parents' generations (0: full, or unreadable).
  struct Link {
    uint64_t generation, parent;
  };
  constexpr size_t kMaxLinks = 4096;
  static Link links[kMaxLinks];  // the checkpoint thread's alone
  size_t link_count = 0;
  bool overflow = false;
  for_each_entry(dir[0] ? dir : "/", [&](const char* name, int dir_fd) {
    names::ImageName image;
    if (!names::parse_image_name(name, &image, g_config.unique_id) || image.temporary) return true;
    if (link_count == kMaxLinks) {
      overflow = true;
      return false;
    }
    image::FileHeader h{};
    int fd = static_cast<int>(sys(SYS_openat, dir_fd, name, O_RDONLY | O_CLOEXEC));
    bool read = fd >= 0 && sys(SYS_pread64, fd, &h, sizeof h, 0) == static_cast<long>(sizeof h);
    if (fd >= 0) sys(SYS_close, fd);
    read = read && !memcmp(h.magic, image::kMagic, sizeof h.magic) && h.version == image::kFormatVersion &&
           h.generation == image.generation;
    links[link_count++] = {image.generation, read ? h.parent_generation : 0};
    return true;
  });
  auto needed = [&](uint64_t generation) {
    if (overflow) return true;  // too many to know: remove nothing
    for (size_t i = 0; i < kept_count; ++i) {
      // Follow the kept generation's chain (parents are older: no loop).
      for (uint64_t g = kept[i]; g;) {
        if (g == generation) return true;
        uint64_t parent = 0;
        for (size_t k = 0; k < link_count; ++k)
          if (links[k].generation == g) parent = links[k].parent;
        g = parent < g ? parent : 0;
      }
    }
    return false;
  };
  for_each_entry(dir[0] ? dir : "/", [&](const char* name, int dir_fd) {
    names::ImageName image;
    if (!names::parse_image_name(name, &image, g_config.unique_id) || image.generation > committed) return true;
    const bool keep = !image.temporary && needed(image.generation);
    if (!keep) {
      CKPT_LOG(Info, "removing %s", name);
      sys(SYS_unlinkat, dir_fd, name, 0);
    }
    return true;
  });
}

void on_welcome(const proto::MsgHeader& h, const char* payload) {
  const auto& w = *reinterpret_cast<const proto::WelcomePayload*>(payload);
  if (h.payload_len >= sizeof w && w.computation_id) g_config.computation_id = w.computation_id;
  CKPT_LOG(Debug, "coordinator says welcome, worker %lu of computation %lx", static_cast<unsigned long>(h.arg),
           static_cast<unsigned long>(g_config.computation_id));
}

void on_committed(const proto::MsgHeader& h, const char* payload) {
  if (h.generation != g_cp.generation) return;
  g_cp.image_pending = false;
  g_tracker.committed(h.generation);
  const size_t kept_count = h.arg < proto::kMaxKeep ? h.arg : proto::kMaxKeep;
  uint64_t kept[proto::kMaxKeep];
  memcpy(kept, payload, kept_count * sizeof kept[0]);
  remove_unkept_images(h.generation, kept, kept_count);
  format_to(g_cp.last_image, sizeof g_cp.last_image, "%s", g_cp.image_path);
  g_committed_count.fetch_add(1);
  signal_done(true);
}

void on_advance(const proto::MsgHeader& h, const char* payload) {
  // A process forked while the computation was suspending joins the
  // checkpoint late: later barriers carry the final number of processes.
  const auto& adv = *reinterpret_cast<const proto::AdvancePayload*>(payload);
  if (adv.computation_size) g_cp.computation_size = adv.computation_size;
  // DRAINED and REFILLED bring what every process shared (ckpt_share).
  const auto barrier = static_cast<Barrier>(h.arg);
  if ((barrier == Barrier::Drained || barrier == Barrier::Refilled) && h.payload_len > sizeof adv) {
    size_t head = (h.payload_len < kReceiveCap ? h.payload_len : kReceiveCap) - sizeof adv;
    shared_in_set(payload + sizeof adv, head, g_receive_rest.data(), g_receive_rest.size());
  }
  switch (static_cast<Barrier>(h.arg)) {
    case Barrier::Suspended:
      on_suspend(h, adv);
      break;
    case Barrier::Drained:
      on_drain(h);
      break;
    case Barrier::Checkpointed:
      take_snapshot(h);
      break;
    case Barrier::Refilled:
      resume_user_threads(&h);
      break;
    case Barrier::Restarted:
      send_reached_with_shared(h.generation, Barrier::Restarted);
      break;
    default:
      CKPT_LOG(Warn, "unexpected barrier %lu", static_cast<unsigned long>(h.arg));
  }
}

// ckpt_command --kill: the coordinator has every process stop its threads
// before it kills any, so that no parent sees a child die and acts on it.
// The Kill follows; if the coordinator goes away instead, we thaw.
bool g_frozen = false;

void on_freeze(const proto::MsgHeader& h) {
  dispatch_event(CKPT_EVENT_FREEZE, nullptr);
  if (!g_cp.suspended && !g_frozen) {
    char error[256];
    if (suspend_threads(error, sizeof error) >= 0)  // how many threads it stopped
      g_frozen = true;
    else
      CKPT_LOG(Warn, "cannot freeze before the kill: %s", error);
  }
  g_coord.send(MsgType::Frozen, h.generation, 0);
}

void handle_message(const proto::MsgHeader& h, const char* payload) {
  switch (static_cast<MsgType>(h.type)) {
    case MsgType::Welcome:
      on_welcome(h, payload);
      break;
    case MsgType::Advance:
      on_advance(h, payload);
      break;
    case MsgType::Abort:
      CKPT_LOG(Warn, "coordinator aborted checkpoint %lu", static_cast<unsigned long>(h.generation));
      abort_checkpoint();
      if (h.generation == g_cp.generation) discard_pending_image();
      break;
    case MsgType::Committed:
      on_committed(h, payload);
      break;
    case MsgType::Freeze:
      on_freeze(h);
      break;
    case MsgType::Kill:
      CKPT_LOG(Info, "killed by the coordinator");
      // The writer is a process of its own: left alone it would finish an
      // image nobody commits, or leave its temporary file behind.
      reap_writer(true);
      kill(raw_getpid(), SIGKILL);
      break;
    case MsgType::AuthRefused:
      // The connection closes next; on_disconnect follows.
      CKPT_LOG(Error, "coordinator %s:%u refused this process: %.*s", g_config.coord_host, g_config.coord_port,
               static_cast<int>(h.payload_len < 256 ? h.payload_len : 256), payload);
      break;
    default:
      CKPT_LOG(Warn, "unexpected message type %u", h.type);
  }
}

void on_disconnect() {
  CKPT_LOG(Warn, "lost the coordinator connection");
  g_coord.close();
  // Without a coordinator the checkpoint cannot complete (nor a kill come);
  // the application goes on.
  if (g_frozen) {
    g_frozen = false;
    resume_threads();
  }
  abort_checkpoint();
}

void warn_env_line(int line, const char* why, void* path) {
  CKPT_LOG(Warn, "%s: line %d skipped: %s", static_cast<const char*>(path), line, why);
}

// ckpt_restart --tmpdir, --env-file, --modify-env and ckpt_launch
// --modify-env: the restored environment changes before the application
// runs again (threads are frozen: restart_env.h allocates nothing).
void edit_restored_environment(const ckpt_restart_handoff& h) {
  char path[4200] = "";
  if (h.env_file[0]) {
    format_to(path, sizeof path, "%s", h.env_file);
  } else if (h.modify_env || g_config.modify_env) {
    // The directory this process's image was written to.
    format_to(path, sizeof path, "%s", g_cp.image_path);
    char* slash = strrchr(path, '/');
    format_to(slash ? slash + 1 : path, sizeof path - (slash ? slash + 1 - path : 0), "%s", CKPT_MODIFY_ENV_FILE);
    struct stat st;
    if (sys(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0) {
      CKPT_LOG(Info, "no %s: environment unchanged", path);
      path[0] = '\0';
    }
  }
  char tmpdir_setting[sizeof h.tmpdir + 16];
  char path_map_setting[sizeof h.path_map + 16];
  const char* extra[3] = {nullptr, nullptr, nullptr};
  int n_extra = 0;
  if (h.tmpdir[0]) {
    format_to(tmpdir_setting, sizeof tmpdir_setting, "%s=%s", CKPT_ENV_TMPDIR, h.tmpdir);
    extra[n_extra++] = tmpdir_setting;
  }
  // ckpt_restart --path-map: plugins/path loads it at CKPT_EVENT_RESTART,
  // and the programs the process runs inherit it.
  if (h.path_map_set) {
    format_to(path_map_setting, sizeof path_map_setting, "%s=%s", CKPT_ENV_PATH_MAP, h.path_map);
    extra[n_extra++] = path_map_setting;
  }
  if (!path[0] && !extra[0]) return;
  char why[256];
  const int changes = edit_environment(path, extra, warn_env_line, path, why, sizeof why);
  if (changes < 0)
    CKPT_LOG(Warn, "environment file %s: %s; environment unchanged", path, why);
  else
    CKPT_LOG(Info, "environment: %d change(s)%s%s", changes, path[0] ? " from " : "", path);
}

// Back from an image: this runs on the checkpoint thread of the restored
// process, with every other thread parked in the suspend handler.
void on_restarted() {
  ckpt_restart_handoff* h = g_restart_handoff;
  g_checkpoint_tid.store(raw_gettid());
  // The image we came back from (its path was set when it was begun).
  format_to(g_cp.last_image, sizeof g_cp.last_image, "%s", g_cp.image_path);
  // Descriptors of the old process are gone: forget them without closing
  // (their numbers may belong to the restored application now).
  forget_protected_fds();
  forget_fork_state_after_restart();
  // Nothing is write-protected in this new address space: the first image
  // after a restart is full.
  g_tracker.forget_after_restart();
  g_coord = CoordClient();
  g_cp.writer_pidfd = g_cp.writer_err_fd = -1;
  g_cp.writer_pid = -1;
  // The snapshot was taken before its generation committed; it is committed now.
  g_cp.image_pending = false;
  protect_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), &g_wake_fd);
  // ckpt_restart --tmpdir: the log's default directory is in it.
  if (h->tmpdir[0]) format_to(g_config.tmpdir, sizeof g_config.tmpdir, "%s", h->tmpdir);
  log_forget_file();
  log_open(g_config.progname);
  // The restorer made this thread under its own name.
  sys(SYS_prctl, PR_SET_NAME, CKPT_CHECKPOINT_THREAD_NAME, 0, 0, 0);

  int user_threads = h->thread_count - 1;
  int back = await_restored_threads(user_threads);
  if (back != user_threads) CKPT_LOG(Error, "only %d of %d threads came back", back, user_threads);

  int n = 0;
  for (int i = 0; i < h->thread_count && i < kMaxThreads; ++i)
    g_restart_ids[n++] = {h->threads[i].virt_tid, h->threads[i].real_tid};
  ckpt_restart_info info{ckpt_virtual_pid(raw_getpid()), raw_getpid(), n, g_restart_ids};
  for (int i = 0; i < n; ++i)
    if (h->threads[i].is_leader) info.virt_pid = h->threads[i].virt_tid;

  if (h->coord_host[0]) format_to(g_config.coord_host, sizeof g_config.coord_host, "%s", h->coord_host);
  if (h->coord_port) g_config.coord_port = static_cast<uint16_t>(h->coord_port);
  // The coordinator of this restart may have another secret than the one we
  // started with.
  static_assert(sizeof h->secret == sizeof g_config.secret.bytes);
  memcpy(g_config.secret.bytes, h->secret, sizeof h->secret);
  g_config.have_secret = true;
  if (h->ckptdir[0]) format_to(g_config.ckptdir, sizeof g_config.ckptdir, "%s", h->ckptdir);
  // The host it runs on now (a restart may move it), and the secret's file
  // there (a remote command it starts names it).
  if (h->host_name[0]) format_to(g_config.host_name, sizeof g_config.host_name, "%s", h->host_name);
  if (h->secret_file[0]) format_to(g_config.secret_file, sizeof g_config.secret_file, "%s", h->secret_file);
  edit_restored_environment(*h);
  // The hand-off lives in the restorer's hole, unmapped below.
  g_cp.restart_started_ns = h->restart_started_ns;
  g_cp.restart_lazy = h->lazy_pages != 0;
  if (h->lazy_fd >= 0) lazy_load_begin(h->lazy_fd, h->restart_started_ns);
  uint64_t hole_start = h->hole_start, hole_len = h->hole_end - h->hole_start;

  // A new process: its signal dispositions are ckpt_restart's. Ours first,
  // then the plugins put back the application's.
  install_suspend_handler();
  g_coord.set_numeric(g_config.coord_host, g_config.coord_port);  // for ckpt_host_address
  dispatch_event(CKPT_EVENT_RESTART, &info);
  // Every thread has left the restorer's code and stacks: release the hole.
  munmap(reinterpret_cast<void*>(hole_start), hole_len);
  g_restart_handoff = nullptr;
  CKPT_LOG(Info, "restarted from generation %lu as pid %d", static_cast<unsigned long>(g_cp.generation),
           raw_getpid());

  g_restart_count.fetch_add(1);
  g_cp.resume_after_restart = true;
  g_coord.set_numeric(g_config.coord_host, g_config.coord_port);
  if (!connect_coordinator(true, kRestartConnectMs)) {
    CKPT_LOG(Error, "no coordinator at %s:%u after restart; running without checkpoints until one appears",
             g_config.coord_host, g_config.coord_port);
    resume_user_threads();
  }
}

// No checkpoint of ours in flight: threads run, and our image writer (which
// could still report a failure that needs an answer) is done.
bool idle() { return !g_cp.suspended && g_cp.writer_pidfd < 0; }

void wait_while_parked() {
  while (g_park.load() == kParked) sys(SYS_futex, &g_park, FUTEX_WAIT_PRIVATE, kParked, nullptr, nullptr, 0);
  CKPT_LOG(Debug, "unparked: the exec failed");
}

void park_here() {
  g_park.store(kParked);
  sys(SYS_futex, &g_park, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  wait_while_parked();
}

// Before the thread touches the connection or the checkpoint state: takes
// back an idle mark. False if an exec parked the thread meanwhile (it has
// waited for the unpark; the caller starts its round again).
bool leave_idle() {
  int expected = kIdle;
  if (g_park.compare_exchange_strong(expected, kRunning) || expected != kParked) return true;
  wait_while_parked();
  return false;
}

void* checkpoint_thread_main(void*) {
  g_checkpoint_tid.store(raw_gettid());
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, nullptr);
  sys(SYS_prctl, PR_SET_NAME, CKPT_CHECKPOINT_THREAD_NAME, 0, 0, 0);
  alignas(8) static char payload[kReceiveCap];
  int64_t next_attempt_ms = 0;
  bool resolve_tried = false;
  for (;;) {
    if (!leave_idle()) continue;
    if (g_park.load() == kParkRequested && idle()) park_here();
    // A fork child inherits the parent's resolved address (and may already
    // be connected): no second name lookup.
    if (!resolve_tried && !g_coord.resolved() && !g_coord.resolve(g_config.coord_host, g_config.coord_port))
      CKPT_LOG(Error, "cannot resolve coordinator host %s", g_config.coord_host);
    resolve_tried = true;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t now_ms = now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (!g_coord.connected() && now_ms >= next_attempt_ms && g_park.load() == kRunning) {
      // As long as a fork child's registration may take: a busy coordinator
      // (many processes joining at once) can take longer than a moment to
      // answer the handshake, and an attempt cut short never joins.
      if (!connect_coordinator(false, kForkConnectMs)) next_attempt_ms = now_ms + kReconnectMs;
    }
    pollfd fds[4] = {{g_wake_fd, POLLIN, 0},
                     {g_coord.fd(), POLLIN, 0},
                     {g_cp.writer_pidfd, POLLIN, 0},
                     {lazy_load_fd(), POLLIN, 0}};
    int timeout = g_coord.connected() ? -1 : kReconnectMs;
    int expected = kRunning;
    if (idle()) g_park.compare_exchange_strong(expected, kIdle);
    const int ready = poll(fds, 4, timeout);
    if (!leave_idle() || ready <= 0) continue;
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      while (read(g_wake_fd, &v, sizeof v) > 0) {
      }
      if (g_checkpoint_requested.exchange(false) && !g_coord.send(MsgType::RequestCheckpoint, 0, 0))
        signal_done(false);
    }
    // One of our descriptors was moved (a dup2 onto its number): the events
    // polled belong to the application's file now. Poll again.
    if (fds[0].fd != g_wake_fd || fds[1].fd != g_coord.fd() || fds[2].fd != g_cp.writer_pidfd) continue;
    if (fds[3].fd >= 0 && fds[3].fd == lazy_load_fd() && (fds[3].revents & (POLLIN | POLLHUP | POLLERR)))
      lazy_load_poll();
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      proto::MsgHeader h;
      memset(payload, 0, sizeof payload);
      if (g_coord.receive(h, payload, sizeof payload, &g_receive_rest)) handle_message(h, payload);
      else on_disconnect();
    }
    if (g_cp.writer_pidfd >= 0 && (fds[2].revents & POLLIN)) on_writer_exit();
  }
  return nullptr;
}

}  // namespace

int plugin_barrier(const char* name, int scope) {
  if (raw_gettid() != g_checkpoint_tid.load() || !g_coord.connected() || g_cp.abort_pending) return -1;
  const size_t len = strnlen(name, proto::kMaxPluginBarrierName);
  const uint64_t arg = scope == CKPT_BARRIER_HOST ? proto::kPluginBarrierHost : proto::kPluginBarrierGlobal;
  if (!g_coord.send(MsgType::PluginBarrier, g_cp.generation, arg, name, static_cast<uint32_t>(len))) return -1;
  // Its own buffer: the event that calls this runs inside the handling of
  // another message, whose payload (and the shared data after it) is in use.
  alignas(8) static char payload[kReceiveCap];
  for (;;) {
    proto::MsgHeader h;
    memset(payload, 0, sizeof payload);
    if (!g_coord.receive(h, payload, sizeof payload)) {
      CKPT_LOG(Warn, "lost the coordinator at plugin barrier '%s'", name);
      g_coord.close();
      g_cp.abort_pending = true;
      g_cp.abort_generation = g_cp.generation;
      return -1;
    }
    switch (static_cast<MsgType>(h.type)) {
      case MsgType::PluginBarrierReleased:
        if (h.arg == arg && h.payload_len == len && memcmp(payload, name, len) == 0) return 0;
        CKPT_LOG(Warn, "release of another plugin barrier while at '%s'", name);
        break;
      case MsgType::Abort:
        g_cp.abort_pending = true;
        g_cp.abort_generation = h.generation;
        return -1;
      case MsgType::Advance:
        // The coordinator waits for this process's answer to the step.
        CKPT_LOG(Warn, "unexpected Advance during plugin barrier '%s'", name);
        break;
      default:
        handle_message(h, payload);
    }
  }
}

void start_checkpoint_thread() {
  protect_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), &g_wake_fd);
  // Idle until it first runs: an exec right after (a fork child's) parks it
  // without waiting for it to be scheduled.
  g_park.store(idle() ? kIdle : kRunning);
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // Start with every signal blocked: application signals must never land on
  // the checkpoint thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  if (pthread_create(&t, &attr, checkpoint_thread_main, nullptr) == 0) g_running.store(true);
  else CKPT_LOG(Error, "cannot start the checkpoint thread");
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
}

void untrack_memory(uint64_t start, uint64_t end) { g_tracker.untrack(start, end); }

bool checkpoint_thread_running() { return g_running.load(); }

void wake_checkpoint_thread() {
  uint64_t one = 1;
  if (g_wake_fd >= 0) write(g_wake_fd, &one, sizeof one);
}

void forget_checkpoint_thread() {
  g_running.store(false);
  // These descriptors are copies of the parent's: closing ours leaves the
  // parent's connection, wake-up and image writer alone.
  g_coord.close();
  close_own_fd(g_wake_fd);
  g_wake_fd = -1;
  close_own_fd(g_cp.writer_pidfd);
  close_own_fd(g_cp.writer_err_fd);
  g_cp.writer_pidfd = g_cp.writer_err_fd = -1;
  g_cp.writer_pid = -1;
  g_tracker.forget_after_fork();
  log_open(g_config.progname);
}

void checkpoint_state_after_fork() {
  forget_checkpoint_thread();
  if (!g_config.have_secret) g_secret_read = false;
  g_park.store(kRunning);  // another thread of the parent may have been exec'ing
  // A new process with its own images; the parent's checkpoint in flight is
  // not ours to finish.
  uint64_t generation = g_cp.generation;
  g_cp = CheckpointState{};
  g_cp.generation = generation;
  make_unique_id(g_config.unique_id, sizeof g_config.unique_id);
}

bool park_checkpoint_thread(int timeout_ms) {
  if (!g_running.load()) return true;
  int expected = kIdle;
  if (g_park.compare_exchange_strong(expected, kParked)) return true;
  expected = kRunning;
  g_park.compare_exchange_strong(expected, kParkRequested);
  wake_checkpoint_thread();
  auto now_ns = [] {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
  };
  const int64_t deadline_ns = now_ns() + timeout_ms * 1'000'000LL;
  for (;;) {
    int state = g_park.load();
    if (state == kParked) return true;
    int64_t left_ns = deadline_ns - now_ns();
    if (left_ns <= 0) {
      // Give up the request, unless the thread parked just now.
      expected = kParkRequested;
      return !g_park.compare_exchange_strong(expected, kRunning);
    }
    struct timespec wait = {static_cast<time_t>(left_ns / 1'000'000'000), static_cast<long>(left_ns % 1'000'000'000)};
    sys(SYS_futex, &g_park, FUTEX_WAIT_PRIVATE, state, &wait, nullptr, 0);
  }
}

void unpark_checkpoint_thread() {
  g_park.store(kRunning);
  sys(SYS_futex, &g_park, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  wake_checkpoint_thread();
}

int coordinator_fd() { return g_coord.fd(); }

void leave_coordinator() {
  // The checkpoint thread is parked between messages: the connection is ours.
  if (g_coord.connected()) shutdown(g_coord.fd(), SHUT_RDWR);
  g_coord.close();
}

size_t exec_handover_state(char* buf, size_t cap) {
  return format_to(buf, cap, "%lx/%lu\n%d\n%s\n%s", static_cast<unsigned long>(g_config.computation_id),
                   static_cast<unsigned long>(g_cp.generation), g_cp.image_pending ? 1 : 0, g_config.unique_id,
                   g_cp.image_path);
}

void adopt_exec_handover(int fd, const char* state) {
  if (fd >= 0) {
    g_coord.adopt(fd);
    CKPT_LOG(Info, "kept the coordinator connection across exec (fd %d)", g_coord.fd());
    proto::ExecPayload e{};
    format_to(e.progname, sizeof e.progname, "%s", g_config.progname);
    g_coord.send(MsgType::Exec, 0, 0, &e, sizeof e);
  }
  if (!state) return;
  // "<computation id, hex>/<generation>\n<image pending: 0 or 1>\n<unique_id>\n<image being written or committed>"
  const char* p = state;
  uint64_t id = 0;
  for (const char* q = p; *q; ++q) {
    const int digit = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10 : -1;
    if (digit < 0) {
      if (*q == '/') g_config.computation_id = id, p = q + 1;
      break;
    }
    id = id << 4 | static_cast<uint64_t>(digit);
  }
  uint64_t generation = 0;
  while (*p >= '0' && *p <= '9') generation = generation * 10 + static_cast<uint64_t>(*p++ - '0');
  g_cp.generation = generation;
  if (p[0] == '\n' && (p[1] == '0' || p[1] == '1')) {
    g_cp.image_pending = p[1] == '1';
    p += 2;
  }
  char* fields[2] = {g_config.unique_id, g_cp.image_path};
  size_t caps[2] = {sizeof g_config.unique_id, sizeof g_cp.image_path};
  for (int i = 0; i < 2 && *p == '\n'; ++i) {
    ++p;
    size_t n = 0;
    while (p[n] && p[n] != '\n') ++n;
    if (n < caps[i]) {
      memcpy(fields[i], p, n);
      fields[i][n] = '\0';
    }
    p += n;
  }
}

bool register_with_coordinator(int timeout_ms) {
  // A child forked before its parent's checkpoint thread resolved the
  // address: a numeric one (or localhost) needs no name lookup, which a fork
  // child of a threaded parent must not do.
  if (!g_coord.resolved()) g_coord.set_numeric(g_config.coord_host, g_config.coord_port);
  if (!g_coord.resolved()) return false;
  if (!connect_with_secret(timeout_ms < kForkConnectMs ? timeout_ms : kForkConnectMs)) return false;
  say_hello(false);
  // The coordinator answers a Hello with Welcome before anything else (an
  // Advance for a checkpoint the new process joins comes after it and is
  // left for the checkpoint thread: receive() never reads past one message).
  pollfd p{g_coord.fd(), POLLIN, 0};
  proto::MsgHeader h;
  char payload[64];
  const bool answered = poll(&p, 1, timeout_ms) == 1 && g_coord.receive(h, payload, sizeof payload);
  if (answered && h.type == static_cast<uint16_t>(MsgType::AuthRefused)) {
    CKPT_LOG(Error, "coordinator %s:%u refused this process: %.*s", g_config.coord_host, g_config.coord_port,
             static_cast<int>(h.payload_len < sizeof payload ? h.payload_len : sizeof payload), payload);
    g_coord.close();
    return false;
  }
  if (answered && h.type == static_cast<uint16_t>(MsgType::Welcome)) {
    on_welcome(h, payload);
    CKPT_LOG(Info, "registered with coordinator %s:%u as worker %lu", g_config.coord_host, g_config.coord_port,
             static_cast<unsigned long>(h.arg));
    return true;
  }
  CKPT_LOG(Warn, "no welcome from coordinator %s:%u within %d ms", g_config.coord_host, g_config.coord_port,
           timeout_ms);
  g_coord.close();
  return false;
}

int request_checkpoint_and_wait() {
  if (!g_running.load()) {
    errno = ENOTCONN;
    return -1;
  }
  int restarts = g_restart_count.load();
  int word = g_done_word.load();
  g_checkpoint_requested.store(true);
  uint64_t one = 1;
  if (write(g_wake_fd, &one, sizeof one) != sizeof one) return -1;
  while (g_done_word.load() == word)
    sys(SYS_futex, &g_done_word, FUTEX_WAIT_PRIVATE, word, nullptr, nullptr, 0);
  if (g_restart_count.load() != restarts) return CKPT_RESTARTED;
  if (g_last_ok.load()) return CKPT_CHECKPOINTED;
  errno = EIO;
  return -1;
}

const char* last_image_path() { return g_cp.last_image; }

void local_counts(int* checkpoints, int* restarts) {
  if (checkpoints) *checkpoints = g_committed_count.load();
  if (restarts) *restarts = g_restart_count.load();
}

}  // namespace ckpt

extern "C" int ckpt_host_address(void* addr, size_t cap) {
  // The source address the kernel picks to reach the coordinator (a UDP
  // socket's connect sends nothing): also before the restored process is
  // connected (at CKPT_EVENT_RESTART).
  if (!ckpt::g_coord.resolved()) return -1;
  int udp = socket(ckpt::g_coord.address()->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  bool ok = udp >= 0 && connect(udp, ckpt::g_coord.address(), ckpt::g_coord.address_len()) == 0 &&
            getsockname(udp, reinterpret_cast<sockaddr*>(&local), &len) == 0 && len <= cap;
  if (udp >= 0) close(udp);
  if (!ok) return -1;
  if (local.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&local)->sin_port = 0;
  if (local.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&local)->sin6_port = 0;
  memcpy(addr, &local, len);
  return static_cast<int>(len);
}
