#include "pid_args.h"

#include "ckpt/raw_syscall.h"

#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

namespace ckpt::pid {

namespace {

// include/uapi/linux/ioprio.h (not in every installed header set).
constexpr long kIoprioWhoProcess = 1, kIoprioWhoPgrp = 2;

long process_id(long v, const IdTranslator& ids) { return v > 0 ? ids.process(static_cast<pid_t>(v)) : v; }
long group_id(long v, const IdTranslator& ids) { return v > 0 ? ids.group(static_cast<pid_t>(v)) : v; }

}  // namespace

void translate_pid_args(const PidCall& call, long args[6], const IdTranslator& ids, void* header_copy) {
  for (int i = 0; i < 6; ++i) {
    switch (call.args[i]) {
      case IdArg::None:
        break;
      case IdArg::Process:
        args[i] = process_id(args[i], ids);
        break;
      case IdArg::PriorityWho:
        if (args[0] == PRIO_PROCESS) args[i] = process_id(args[i], ids);
        else if (args[0] == PRIO_PGRP) args[i] = group_id(args[i], ids);
        break;
      case IdArg::IoprioWho:
        if (args[0] == kIoprioWhoProcess) args[i] = process_id(args[i], ids);
        else if (args[0] == kIoprioWhoPgrp) args[i] = group_id(args[i], ids);
        break;
      case IdArg::CapHeader:
        if (ckpt_readable_user_memory(reinterpret_cast<const void*>(args[i]), sizeof(__user_cap_header_struct))) {
          auto* copy = static_cast<__user_cap_header_struct*>(header_copy);
          memcpy(copy, reinterpret_cast<const void*>(args[i]), sizeof *copy);
          copy->pid = static_cast<int>(process_id(copy->pid, ids));
          args[i] = reinterpret_cast<long>(copy);
        }
        break;
    }
  }
}

void finish_pid_args(const PidCall& call, const long original[6], const long translated[6]) {
  for (int i = 0; i < 6; ++i) {
    if (call.args[i] != IdArg::CapHeader || original[i] == translated[i]) continue;
    auto* app = reinterpret_cast<__user_cap_header_struct*>(original[i]);
    app->version = reinterpret_cast<const __user_cap_header_struct*>(translated[i])->version;
  }
}

}  // namespace ckpt::pid
