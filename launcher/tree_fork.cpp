#include "tree_fork.h"

#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "ckpt/restart.h"

namespace ckpt {
namespace {

enum Barrier { kCreated, kLeaders, kGroups, kReady, kBarrierCount };

struct MemberSlot {
  std::atomic<int32_t> real_pid;
  std::atomic<uint32_t> original_pid;  // clone3 set_tid gave it its saved pid
};

// Lives in a MAP_SHARED anonymous mapping every process of the tree inherits.
struct Control {
  std::atomic<uint32_t> arrived[kBarrierCount];
  std::atomic<uint32_t> failed;
  char error[1024];
  MemberSlot* members;  // one per tree member, right after this block
};

static_assert(std::atomic<uint32_t>::is_always_lock_free && sizeof(std::atomic<uint32_t>) == 4,
              "the barriers are futex words");

constexpr int kForkAttempts = 64;

void futex_wake_all(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

void futex_wait(std::atomic<uint32_t>* word, uint32_t seen, long timeout_ns) {
  timespec ts{0, timeout_ns};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, seen, &ts, nullptr, 0);
}

class TreeRun {
 public:
  TreeRun(const TreeForkPlan& plan, Control* ctl) : plan_(plan), tree_(*plan.tree), ctl_(ctl) {}

  // ckpt_restart itself: forks the root and the orphans, waits until all
  // are ready.
  std::vector<pid_t> run_top() {
    std::vector<Watched> watched;
    for (int c : tree_.top_children) {
      pid_t pid = fork_member(c);
      if (pid < 0) break;
      watched.push_back({pid, c});
    }
    auto real_pids = [this]() {
      std::vector<pid_t> pids;
      for (size_t i = 0; i < tree_.members.size(); ++i) pids.push_back(ctl_->members[i].real_pid.load());
      return pids;
    };
    bool ok = !ctl_->failed && wait_barrier(kGroups, tree_.members.size(), watched, false);
    if (ok && plan_.groups_ready) plan_.groups_ready(real_pids());
    // ckpt_restart is one of the parties of the last barrier: nobody runs
    // before groups_ready() is done.
    ok = ok && wait_barrier(kReady, tree_.process_count() + 1, watched, true);
    std::vector<pid_t> pids = real_pids();
    if (ok) return pids;
    for (pid_t pid : pids)
      if (pid > 0) kill(pid, SIGKILL);
    for (const Watched& w : watched) waitpid(w.pid, nullptr, 0);
    throw RestartError(ctl_->error[0] ? ctl_->error : "the restart failed for an unknown reason");
  }

 private:
  struct Watched {
    pid_t pid;
    int member;
  };

  const TreeMember& member(int i) const { return tree_.members[i]; }

  void fail(const std::string& why) {
    uint32_t expected = 0;
    if (ctl_->failed.compare_exchange_strong(expected, 1))
      std::snprintf(ctl_->error, sizeof ctl_->error, "%s", why.c_str());
    else
      ctl_->failed = 1;
    for (auto& b : ctl_->arrived) futex_wake_all(&b);
  }

  // True once `count` processes arrived. Meanwhile watches the caller's
  // children: one that dies now died in ckpt_restart's code.
  bool wait_barrier(Barrier b, size_t count, const std::vector<Watched>& children, bool arrive) {
    std::atomic<uint32_t>& word = ctl_->arrived[b];
    if (arrive && word.fetch_add(1) + 1 == count) futex_wake_all(&word);
    for (;;) {
      uint32_t seen = word.load();
      if (ctl_->failed) return false;
      if (seen >= count) return true;
      for (const Watched& w : children) {
        siginfo_t si{};
        if (waitid(P_PID, w.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == w.pid) {
          // A zombie-to-be or a restored process may end as soon as it saw
          // the barrier complete, before this process looked again.
          if (word.load() >= count) return true;
          std::string how = si.si_code == CLD_EXITED ? "exited with status " + std::to_string(si.si_status)
                                                      : "was killed by signal " + std::to_string(si.si_status);
          fail(plan_.describe(w.member) + " " + how + " while being restored");
          return false;
        }
      }
      futex_wait(&word, seen, 100 * 1000 * 1000);
    }
  }

  // A pid some other member had: taking it as a new real pid would make
  // that member's vpid ambiguous, so such a fork is discarded and retried.
  bool taken_by_another(pid_t pid, int self) const {
    int owner = tree_.find(pid);
    return owner >= 0 && owner != self;
  }

  pid_t fork_member(int i) {
    pid_t parent = getpid();
    for (int attempt = 0; attempt < kForkAttempts; ++attempt) {
      bool original = false;
      pid_t pid = -1;
      if (plan_.try_original_pids) {
        pid_t tid = member(i).vpid;
        clone_args ca{};
        ca.exit_signal = SIGCHLD;
        // glibc keeps the thread's tid in its own struct (as fork() does,
        // the kernel writes the child's there).
        int* own_tid = nullptr;
        if (prctl(PR_GET_TID_ADDRESS, &own_tid) == 0 && own_tid) {
          ca.flags = CLONE_CHILD_SETTID;
          ca.child_tid = reinterpret_cast<uint64_t>(own_tid);
        }
        ca.set_tid = reinterpret_cast<uint64_t>(&tid);
        ca.set_tid_size = 1;
        pid = static_cast<pid_t>(syscall(SYS_clone3, &ca, sizeof ca));
        original = pid >= 0;
      }
      if (!original) pid = fork();
      if (pid == 0) {
        if (!original && taken_by_another(getpid(), i)) _exit(0);
        run_member(i, parent, original);
      }
      if (pid < 0) {
        fail("cannot fork " + plan_.describe(i) + ": " + std::strerror(errno));
        return -1;
      }
      if (!original && taken_by_another(pid, i)) {
        waitpid(pid, nullptr, 0);
        continue;
      }
      ctl_->members[i].real_pid = pid;
      return pid;
    }
    fail("cannot fork " + plan_.describe(i) + ": every new pid belonged to another process of the computation");
    return -1;
  }

  // Dies the way the saved status says, for the parent's wait to see.
  [[noreturn]] static void exit_like(int status) {
    if (WIFSIGNALED(status)) {
      int sig = WTERMSIG(status);
      rlimit no_core{0, 0};
      setrlimit(RLIMIT_CORE, &no_core);
      signal(sig, SIG_DFL);
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      sigprocmask(SIG_UNBLOCK, &set, nullptr);
      kill(getpid(), sig);
      _exit(128 + sig);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 0);
  }

  void join_group(int i) {
    const TreeMember& m = member(i);
    int leader = tree_.find(m.vpgid);
    if (leader < 0 || leader == i) return;  // its own group is made in the leaders' step
    pid_t pgid = ctl_->members[leader].real_pid;
    if (setpgid(0, pgid) != 0)
      throw RestartError("cannot join process group " + std::to_string(m.vpgid) + " (now " + std::to_string(pgid) +
                         "): " + std::strerror(errno));
  }

  void lead_group(int i) {
    const TreeMember& m = member(i);
    if (m.vpgid == m.vpid && m.vsid != m.vpid && setpgid(0, 0) != 0)
      throw RestartError(std::string("cannot make its process group: ") + std::strerror(errno));
  }

  [[noreturn]] void run_member(int i, pid_t parent, bool original) {
    // ckpt_restart's code must not outlive a parent that failed or was killed.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    const TreeMember& m = member(i);
    pid_t self = getpid();
    ctl_->members[i].real_pid = self;
    ctl_->members[i].original_pid = original;
    size_t all = tree_.members.size();
    try {
      if (plan_.created) plan_.created(i, self);
      if (m.zombie()) {
        if (!wait_barrier(kCreated, all, {}, true)) _exit(1);
        lead_group(i);
        if (!wait_barrier(kLeaders, all, {}, true)) _exit(1);
        join_group(i);
        if (!wait_barrier(kGroups, all, {}, true)) _exit(1);
        exit_like(m.wait_status);
      }
      // Children that stayed in the session this process had before it
      // made its own are forked first.
      std::vector<Watched> children;
      bool leads_session = m.vsid == m.vpid;
      for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1 && leads_session) {
          if (setsid() < 0) throw RestartError(std::string("cannot make its session: ") + std::strerror(errno));
          if (plan_.session_made) plan_.session_made(i);
        }
        for (int c : m.children) {
          bool older_session = leads_session && member(c).vsid != m.vpid;
          if (older_session != (pass == 0)) continue;
          pid_t pid = fork_member(c);
          if (pid < 0) _exit(1);
          children.push_back({pid, c});
        }
      }
      if (!wait_barrier(kCreated, all, children, true)) _exit(1);
      lead_group(i);
      if (!wait_barrier(kLeaders, all, children, true)) _exit(1);
      join_group(i);
      if (!wait_barrier(kGroups, all, children, true)) _exit(1);

      // Zombie children must have exited before the parent's code can wait.
      std::vector<Watched> live;
      for (const Watched& w : children) {
        if (!member(w.member).zombie()) {
          live.push_back(w);
          continue;
        }
        siginfo_t si{};
        while (waitid(P_PID, w.pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
        }
      }
      ProcessRestore restore;
      plan_.prepare(i, restore);
      if (!wait_barrier(kReady, tree_.process_count() + 1, live, true)) _exit(1);
      prctl(PR_SET_PDEATHSIG, 0);
      restore.enter(ctl_->members[i].original_pid != 0);
    } catch (const std::exception& e) {
      fail(plan_.describe(i) + ": " + e.what());
    }
    _exit(1);
  }

  const TreeForkPlan& plan_;
  const RestartTree& tree_;
  Control* ctl_;
};

}  // namespace

std::vector<pid_t> fork_tree(const TreeForkPlan& plan) {
  size_t size = sizeof(Control) + plan.tree->members.size() * sizeof(MemberSlot);
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw RestartError(std::string("cannot map the restart control block: ") + std::strerror(errno));
  auto* ctl = new (mem) Control();
  ctl->members = reinterpret_cast<MemberSlot*>(ctl + 1);
  for (size_t i = 0; i < plan.tree->members.size(); ++i) new (&ctl->members[i]) MemberSlot{{0}, {0}};
  std::fflush(nullptr);
  TreeRun run(plan, ctl);
  try {
    std::vector<pid_t> pids = run.run_top();
    munmap(mem, size);
    return pids;
  } catch (...) {
    munmap(mem, size);
    throw;
  }
}

}  // namespace ckpt
