// pid_tree: a parent and its children, under ckpt_launch, check what the pid
// plugin promises for a process tree: fork's pid is the child's getpid(),
// the child's getppid() is the parent's getpid(), waitpid/waitid/wait4 and
// SIGCHLD's si_pid name the child, kill/killpg reach it, /proc/<child> is it,
// process groups translate, an exec'ed child keeps its pid and parent, and
// the shared pid table (CKPT_PIDTABLE) holds each child with its parent until
// it is reaped. Prints "ok <check>" lines; the first failed check prints
// "FAIL <check>" and exits 1.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pid_table.h"

namespace {

volatile sig_atomic_t g_chld_pid = 0;
volatile sig_atomic_t g_chld_code = 0;

void on_sigchld(int, siginfo_t* info, void*) {
  g_chld_pid = info->si_pid;
  g_chld_code = info->si_code;
}

void check(bool ok, const char* what) {
  printf("%s %s\n", ok ? "ok" : "FAIL", what);
  fflush(stdout);
  if (!ok) exit(1);
}

// The table entry for `vpid`, through a mapping of our own.
bool table_entry(pid_t vpid, ckpt::PidEntry* out) {
  const char* path = getenv("CKPT_PIDTABLE");
  ckpt::PidTable t;
  if (!path || ckpt::PidTable::open(path, t) != 0) return false;
  int copies = 0;
  t.for_each([&](const ckpt::PidEntry& e) {
    if (e.vpid == vpid) {
      ++copies;
      if (out) *out = e;
    }
    return true;
  });
  t.close();
  return copies == 1;
}

bool in_table_with_parent(pid_t vpid, pid_t vppid) {
  ckpt::PidEntry e;
  return table_entry(vpid, &e) && e.real == vpid && e.vppid == vppid;
}

void wait_for_sigchld(pid_t child) {
  for (int i = 0; i < 3000 && g_chld_pid != child; ++i) usleep(1000);
}

// A child that reports its own view through a pipe, then waits to be told.
pid_t spawn_reporting_child(int report[2], int hold[2]) {
  if (pipe(report) != 0 || pipe(hold) != 0) check(false, "pipe");
  pid_t child = fork();
  if (child < 0) check(false, "fork");
  if (child == 0) {
    pid_t ids[3] = {getpid(), getppid(), static_cast<pid_t>(syscall(SYS_getppid))};
    if (write(report[1], ids, sizeof ids) != sizeof ids) _exit(2);
    char c;
    ssize_t n = read(hold[0], &c, 1);  // until the parent closes or kills us
    _exit(n == 1 ? c : 4);
  }
  return child;
}

void forked_child_sees_parent_and_itself(pid_t self) {
  int report[2], hold[2];
  g_chld_pid = 0;
  pid_t child = spawn_reporting_child(report, hold);
  pid_t ids[3];
  check(read(report[0], ids, sizeof ids) == sizeof ids, "the child reported its ids");
  check(ids[0] == child, "fork() returns the child's getpid()");
  check(ids[1] == self && ids[2] == self, "the child's getppid() is the parent's getpid()");
  check(in_table_with_parent(child, self), "the pid table holds the child once, with its parent");

  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", child);
  FILE* f = fopen(path, "r");
  bool ppid_ok = false;
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "PPid:", 5)) ppid_ok = atoi(line + 5) == static_cast<int>(syscall(SYS_getpid));
  if (f) fclose(f);
  check(ppid_ok, "/proc/<child>/status is the child (its PPid is us)");

  check(kill(child, SIGTERM) == 0, "kill(child, SIGTERM)");
  int status = 0;
  check(waitpid(child, &status, 0) == child, "waitpid returns the child's pid");
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "the child died of SIGTERM");
  wait_for_sigchld(child);
  check(g_chld_pid == child && g_chld_code == CLD_KILLED, "SIGCHLD's si_pid is the child's pid");
  check(!table_entry(child, nullptr), "the reaped child left the pid table");
  close(report[0]);
  close(report[1]);
  close(hold[0]);
  close(hold[1]);
}

void waitid_and_wait4_name_the_child(pid_t self) {
  int report[2], hold[2];
  pid_t child = spawn_reporting_child(report, hold);
  pid_t ids[3];
  check(read(report[0], ids, sizeof ids) == sizeof ids, "second child reported");
  char code = 9;
  check(write(hold[1], &code, 1) == 1, "told the child to exit");
  siginfo_t si;
  memset(&si, 0, sizeof si);
  check(waitid(P_PID, child, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == child, "waitid(WNOWAIT) names the child");
  check(in_table_with_parent(child, self), "a child waited for with WNOWAIT stays in the table");
  memset(&si, 0, sizeof si);
  check(syscall(SYS_waitid, P_PID, child, &si, WEXITED, nullptr) == 0 && si.si_pid == child && si.si_status == 9,
        "syscall(SYS_waitid) names the child and its status");
  check(!table_entry(child, nullptr), "the child reaped by waitid left the table");
  close(report[0]);
  close(report[1]);
  close(hold[0]);
  close(hold[1]);
}

void process_groups_translate() {
  int report[2], hold[2];
  pid_t child = spawn_reporting_child(report, hold);
  pid_t ids[3];
  check(read(report[0], ids, sizeof ids) == sizeof ids, "third child reported");
  check(setpgid(child, child) == 0, "setpgid(child, child)");
  check(getpgid(child) == child, "getpgid(child) is the child's pid");
  check(getpgid(0) == getpgrp() && getpgid(0) != child, "our own group is another");
  check(getsid(child) == getsid(0), "the child is in our session");
  check(killpg(child, SIGKILL) == 0, "killpg(child's group, SIGKILL)");
  int status = 0;
  struct rusage ru;
  check(wait4(-child, &status, 0, &ru) == child, "wait4(-pgid) returns the child");
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child died of SIGKILL");
  close(report[0]);
  close(report[1]);
  close(hold[0]);
  close(hold[1]);
}

void exec_keeps_ids(const char* self_path, pid_t self) {
  pid_t child = fork();
  if (child < 0) check(false, "fork for exec");
  if (child == 0) {
    char pid_arg[16], parent_arg[16];
    snprintf(pid_arg, sizeof pid_arg, "%d", getpid());
    snprintf(parent_arg, sizeof parent_arg, "%d", getppid());
    execl("/proc/self/exe", self_path, "exec-child", pid_arg, parent_arg, static_cast<char*>(nullptr));
    _exit(3);
  }
  int status = 0;
  check(waitpid(child, &status, 0) == child, "waitpid returns the exec'ed child");
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the exec'ed child kept its pid, parent and table entry");
  check(!table_entry(child, nullptr), "the exec'ed child left the table when reaped");
  (void)self;
}

// After exec: same pid, same parent, one table entry naming that parent.
int exec_child(pid_t expected_pid, pid_t expected_parent) {
  bool ok = getpid() == expected_pid && getppid() == expected_parent &&
            in_table_with_parent(expected_pid, expected_parent);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && !strcmp(argv[1], "exec-child")) return exec_child(atoi(argv[2]), atoi(argv[3]));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigchld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGCHLD, &sa, nullptr);
  pid_t self = getpid();
  check(in_table_with_parent(self, getppid()), "the launched process is in the pid table");
  forked_child_sees_parent_and_itself(self);
  waitid_and_wait4_name_the_child(self);
  process_groups_translate();
  exec_keeps_ids(argv[0], self);
  printf("done\n");
  return 0;
}
