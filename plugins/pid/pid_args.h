// Every system call that names a process or thread by id, beyond the ones
// with wrappers of their own in pid_wrappers.cpp (getpid, kill, wait ...):
// which argument holds the id and what kind of id it is. One table, used
// by the syscall() wrapper and by the tests; the C library's functions for
// the same calls (sched_setaffinity, prlimit, process_vm_readv ...) are
// wrapped in pid_wrappers.cpp with the same rules.
//
// After a restart under new kernel pids the application still holds its
// virtual ids; the kernel must see the real ones, or these calls fail with
// ESRCH or reach the wrong process.
#pragma once

#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>

namespace ckpt::pid {

enum class IdArg : unsigned char {
  None,
  Process,      // a pid or tid (0 or -1: "self" / "any", left alone)
  PriorityWho,  // getpriority/setpriority: argument `which` decides (PRIO_PROCESS, PRIO_PGRP, PRIO_USER)
  IoprioWho,    // ioprio_get/ioprio_set: IOPRIO_WHO_PROCESS, _PGRP or _USER
  CapHeader,    // capget/capset: a pointer to a header whose `pid` field is the id
};

struct PidCall {
  long nr;
  const char* name;
  IdArg args[6];  // per argument of the system call
};

inline constexpr PidCall kPidCalls[] = {
    {SYS_sched_setaffinity, "sched_setaffinity", {IdArg::Process}},
    {SYS_sched_getaffinity, "sched_getaffinity", {IdArg::Process}},
    {SYS_sched_setparam, "sched_setparam", {IdArg::Process}},
    {SYS_sched_getparam, "sched_getparam", {IdArg::Process}},
    {SYS_sched_setscheduler, "sched_setscheduler", {IdArg::Process}},
    {SYS_sched_getscheduler, "sched_getscheduler", {IdArg::Process}},
    {SYS_sched_rr_get_interval, "sched_rr_get_interval", {IdArg::Process}},
    {SYS_sched_setattr, "sched_setattr", {IdArg::Process}},
    {SYS_sched_getattr, "sched_getattr", {IdArg::Process}},
    {SYS_process_vm_readv, "process_vm_readv", {IdArg::Process}},
    {SYS_process_vm_writev, "process_vm_writev", {IdArg::Process}},
    {SYS_prlimit64, "prlimit64", {IdArg::Process}},
    {SYS_getpriority, "getpriority", {IdArg::None, IdArg::PriorityWho}},
    {SYS_setpriority, "setpriority", {IdArg::None, IdArg::PriorityWho}},
    {SYS_ioprio_get, "ioprio_get", {IdArg::None, IdArg::IoprioWho}},
    {SYS_ioprio_set, "ioprio_set", {IdArg::None, IdArg::IoprioWho}},
    {SYS_kcmp, "kcmp", {IdArg::Process, IdArg::Process}},
    {SYS_get_robust_list, "get_robust_list", {IdArg::Process}},
    {SYS_capget, "capget", {IdArg::CapHeader}},
    {SYS_capset, "capset", {IdArg::CapHeader}},
    {SYS_migrate_pages, "migrate_pages", {IdArg::Process}},
    {SYS_move_pages, "move_pages", {IdArg::Process}},
    {SYS_perf_event_open, "perf_event_open", {IdArg::None, IdArg::Process}},
    {SYS_ptrace, "ptrace", {IdArg::None, IdArg::Process}},
    {SYS_pidfd_open, "pidfd_open", {IdArg::Process}},
    {SYS_tkill, "tkill", {IdArg::Process}},
};

inline const PidCall* find_pid_call(long nr) {
  for (const PidCall& c : kPidCalls)
    if (c.nr == nr) return &c;
  return nullptr;
}

// How ids become the kernel's: injectable for tests.
struct IdTranslator {
  pid_t (*process)(pid_t);  // a pid or tid
  pid_t (*group)(pid_t);    // a process group
};

// Rewrites the id arguments of system call `call` in `args` (virtual ->
// real). A capget/capset header is copied to `header_copy` (at least 8
// bytes, the kernel's __user_cap_header_struct) and the argument pointed
// at the copy, so the application's header is left as it was. A pointer
// the kernel would reject is left for the kernel to reject.
void translate_pid_args(const PidCall& call, long args[6], const IdTranslator& ids, void* header_copy);
// After the call: what the kernel wrote into a copied capget/capset header
// (its preferred `version`, which libcap probes for) goes back to the
// application's header. `original` are the arguments before translation.
void finish_pid_args(const PidCall& call, const long original[6], const long translated[6]);

}  // namespace ckpt::pid
