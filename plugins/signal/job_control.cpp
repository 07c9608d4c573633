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
// The SIGCONT goes to a thread of the process that blocks it (its checkpoint
// thread does, always): the kernel continues the whole process all the same,
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
// A host where every process of the computation is stopped has nobody to
// continue them: the checkpoint fails at the coordinator's timeout, naming them.
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// A thread of process `pid` that blocks SIGCONT, or 0: every process under
// libckpt has one (its checkpoint thread blocks every signal).
pid_t thread_blocking_sigcont(pid_t pid) {
  const uint64_t bit = 1ull << (SIGCONT - 1);
  pid_t found = 0;
  ckpt::ShortText dir = ckpt::ShortText().add("/proc/").dec(pid).add("/task");
  ckpt::for_each_numbered_entry(dir.c_str(), [&](long tid, int) {
    ckpt::ShortText path = ckpt::ShortText().add(dir.c_str()).add("/").dec(tid).add("/status");
    char buf[4096];
    uint64_t blocked = 0;
    const char* p = ckpt::read_small_file(path.c_str(), buf, sizeof buf) > 0 ? strstr(buf, "\nSigBlk:\t") : nullptr;
    for (p = p ? p + 9 : nullptr; p && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')); ++p)
      blocked = blocked * 16 + static_cast<uint64_t>(*p <= '9' ? *p - '0' : *p - 'a' + 10);
    if (blocked & bit) found = static_cast<pid_t>(tid);
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
        const pid_t tid = thread_blocking_sigcont(real);
        if (tid == 0) return 0;  // not under libckpt: a pid the table knows from another host
        if (ckpt::raw_syscall(SYS_tgkill, real, tid, SIGCONT) == 0) g_woken[g_woken_count++] = {virt, real};
        return 0;
      },
      nullptr);
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
