// Stopped processes (job control: SIGTSTP, SIGSTOP, SIGTTIN, SIGTTOU).
//
// A stopped process cannot take part in a checkpoint: its checkpoint thread
// is stopped with the rest of it, and the checkpoint would wait for it until
// the coordinator's timeout. So when a checkpoint (or a kill) begins, every
// process of the computation that still runs continues the stopped ones on
// its host and tells the computation whom it woke (ckpt_share); each of those
// learns it at DRAIN, before its image is written, and stops itself again
// once the coordinator has its last answer (CKPT_EVENT_RESUMING). A restarted
// process that was stopped at checkpoint time stops itself the same way, so
// a Ctrl-Z'd job stays stopped until `fg`, and its parent's
// waitpid(WUNTRACED) sees it stopped.
//
// The SIGCONT goes to the process's checkpoint thread, which blocks it: the kernel continues the whole process all the same,
// the application's SIGCONT handler does not run, and the stop that follows
// takes that SIGCONT off the queue. Until its checkpoint thread suspends the
// other threads, they run (milliseconds), and the parent sees CLD_CONTINUED
// then CLD_STOPPED.
//
// The process stops itself with SIGSTOP, sent to its checkpoint thread: that
// thread takes the stop at once, before it lets the other threads run, so no
// application code runs before the SIGCONT of the user's `fg`. The parent's
// waitpid(WUNTRACED) reports WSTOPSIG SIGSTOP from then on (which signal
// stopped the process first, the kernel does not tell).
//
// A checkpoint that fails before DRAIN: whoever woke a process stops it again.
//
// A host where every process of the computation is stopped has nobody of the
// computation to continue them: there the coordinator does, when it runs on
// the same machine (ContinueStopped in coordinator/state_machine.h), with the
// same SIGCONT to the checkpoint thread. The woken process learns it from
// that signal, still pending on its checkpoint thread when the checkpoint
// (or the freeze before a kill) reaches it, and stops itself again at
// RESUMING like the others. A host of stopped processes whose coordinator
// runs elsewhere still has nobody: the checkpoint fails at the coordinator's
// timeout, naming them.
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt/environment.h"
#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "ckpt/proc_dir.h"
#include "ckpt/raw_syscall.h"

namespace {

constexpr char kShareName[] = "job_control";
constexpr int kMaxWoken = 256;

// Set at DRAIN when a peer woke this process; saved with its memory, so the
// restarted process stops itself too.
bool g_stop_again = false;

// The processes this one woke for the checkpoint under way.
struct Woken {
  pid_t virt, real;
};
Woken g_woken[kMaxWoken];
int g_woken_count = 0;
bool g_drained = false;

pid_t raw_getpid() { return static_cast<pid_t>(ckpt::raw_syscall(SYS_getpid)); }

// The state letter of /proc/<pid>/stat (after the command's ')').
char stat_state(const char* path) {
  char buf[1024];
  if (ckpt::read_small_file(path, buf, sizeof buf) <= 0) return '?';
  const char* close = strrchr(buf, ')');
  return close && close[1] == ' ' ? close[2] : '?';
}

// A signal set of a /proc status file ("SigBlk", "SigPnd": hex digits), or 0.
uint64_t status_signal_set(const char* path, const char* field) {
  char buf[4096];
  if (ckpt::read_small_file(path, buf, sizeof buf) <= 0) return 0;
  const ckpt::ShortText key = ckpt::ShortText().add("\n").add(field).add(":\t");
  const char* p = strstr(buf, key.c_str());
  uint64_t set = 0;
  for (p = p ? p + strlen(key.c_str()) : nullptr; p && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')); ++p)
    set = set * 16 + static_cast<uint64_t>(*p <= '9' ? *p - '0' : *p - 'a' + 10);
  return set;
}

// The checkpoint thread of process `pid` (by its name), or 0: every process
// under libckpt has one, and it blocks SIGCONT, always.
pid_t checkpoint_thread_of(pid_t pid) {
  pid_t found = 0;
  ckpt::ShortText dir = ckpt::ShortText().add("/proc/").dec(pid).add("/task");
  ckpt::for_each_numbered_entry(dir.c_str(), [&](long tid, int) {
    ckpt::ShortText path = ckpt::ShortText().add(dir.c_str()).add("/").dec(tid).add("/comm");
    char name[32];
    const long n = ckpt::read_small_file(path.c_str(), name, sizeof name);
    if (n > 0 && name[n - 1] == '\n') name[n - 1] = '\0';
    if (n > 0 && !strcmp(name, CKPT_CHECKPOINT_THREAD_NAME)) found = static_cast<pid_t>(tid);
    return found == 0;
  });
  return found;
}

// Continues every stopped (not traced) process of the computation on this host.
void wake_stopped_peers() {
  g_woken_count = 0;
  g_drained = false;
  ckpt_for_each_process(
      [](pid_t virt, pid_t real, void*) {
        if (real == raw_getpid() || g_woken_count == kMaxWoken) return 0;
        ckpt::ShortText stat = ckpt::ShortText().add("/proc/").dec(real).add("/stat");
        if (stat_state(stat.c_str()) != 'T') return 0;
        const pid_t tid = checkpoint_thread_of(real);
        if (tid == 0) return 0;  // not under libckpt: a pid the table knows from another host
        if (ckpt::raw_syscall(SYS_tgkill, real, tid, SIGCONT) == 0) g_woken[g_woken_count++] = {virt, real};
        return 0;
      },
      nullptr);
}

// Whether SIGCONT is pending on this thread (the checkpoint thread, which
// blocks it): somebody continued this process for the checkpoint, since the
// user's SIGCONT (`fg`, `kill -CONT`) is sent to the process, not to it, and
// the stop that follows takes it off the queue again.
bool woken_for_checkpoint() {
  return status_signal_set("/proc/thread-self/status", "SigPnd") & (1ull << (SIGCONT - 1));
}

void share_woken() {
  for (int i = 0; i < g_woken_count; ++i) ckpt_share(kShareName, &g_woken[i].virt, sizeof g_woken[i].virt);
}

void notice_woken() {
  g_drained = true;
  pid_t self = ckpt_virtual_pid(raw_getpid());
  ckpt_for_each_shared(
      kShareName,
      [](const void* data, size_t len, void* arg) {
        pid_t virt;
        if (len != sizeof virt) return 0;
        memcpy(&virt, data, sizeof virt);
        if (virt == *static_cast<pid_t*>(arg)) g_stop_again = true;
        return 0;
      },
      &self);
}

void job_control_event(ckpt_event_t event, void*) {
  switch (event) {
    case CKPT_EVENT_PRE_SUSPEND:
    case CKPT_EVENT_FREEZE:
      if (woken_for_checkpoint()) g_stop_again = true;
      wake_stopped_peers();
      break;
    case CKPT_EVENT_PRE_CHECKPOINT:
      share_woken();
      break;
    case CKPT_EVENT_DRAIN:
      notice_woken();
      break;
    case CKPT_EVENT_RESUMING:
      // Woken processes that never learnt it (the checkpoint failed first).
      if (!g_drained)
        for (int i = 0; i < g_woken_count; ++i) ckpt::raw_syscall(SYS_kill, g_woken[i].real, SIGSTOP);
      g_woken_count = 0;
      if (!g_stop_again) break;
      g_stop_again = false;
      // To this thread: it stops here, before it lets the others run.
      ckpt::raw_syscall(SYS_tgkill, raw_getpid(), ckpt::raw_syscall(SYS_gettid), SIGSTOP);
      break;
    default:
      break;
  }
}

const ckpt_plugin g_plugin = {"job_control", job_control_event};

__attribute__((constructor(200))) void register_job_control_plugin() { ckpt_register_plugin(&g_plugin); }

}  // namespace
