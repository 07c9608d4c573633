// The restart side of POSIX timers: the process itself creates its timers
// again (posix_timers.cpp, at CKPT_EVENT_RESTART), under the ids the
// application holds, which needs prctl(PR_TIMER_CREATE_RESTORE_IDS) (Linux
// 6.15). A kernel without it would give them other ids: the restart is
// refused before anything runs rather than leaving the application with
// timer_t values that name nothing.
#include <sys/prctl.h>

#include <string>
#include <vector>

#include "ckpt/restart.h"
#include "posix_timer_image.h"

namespace ckpt {
namespace {

constexpr int kPrTimerCreateRestoreIds = 77;  // <linux/prctl.h> may predate it
constexpr unsigned long kRestoreIdsGet = 2;

class PosixTimerKind : public RestartKind {
 public:
  const char* name() const override { return timer::kPosixTimerSection; }

  void check(RestartContext& ctx) override {
    for (const RestartProcess& p : ctx.processes)
      for (const image::Section& s : p.image->sections()) {
        if (s.name != timer::kPosixTimerSection) continue;
        std::vector<timer::SavedPosixTimer> timers;
        std::string why = timer::read_posix_timer_section(s.data, timers);
        if (!why.empty()) throw RestartError("image " + p.image->path() + ": section posix_timer: " + why);
        if (!timers.empty() && prctl(kPrTimerCreateRestoreIds, kRestoreIdsGet, 0, 0, 0) < 0)
          throw RestartError(p.describe() + " has " + std::to_string(timers.size()) +
                             " POSIX timers, and this kernel cannot give them their ids back "
                             "(prctl PR_TIMER_CREATE_RESTORE_IDS needs Linux 6.15)");
      }
  }
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::PosixTimerKind)
