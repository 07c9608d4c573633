// A third-party restart kind (ckpt/restart.h), loaded by ckpt_restart
// --plugin: the restart side of programs/failing_plugin.c's "flaky" plugin.
// check() finds the "flaky" section of every image and refuses the restart
// while FLAKY_REFUSE is set; create() writes the saved value to the file
// FLAKY_OUT, so the test sees that the kind ran and read the image.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "ckpt/restart.h"

namespace {

class FlakyRestart : public ckpt::RestartKind {
 public:
  const char* name() const override { return "flaky"; }

  void check(ckpt::RestartContext& ctx) override {
    for (const ckpt::RestartProcess& p : ctx.processes) {
      const ckpt::image::Section* found = nullptr;
      for (const ckpt::image::Section& s : p.image->sections())
        if (s.name == "flaky") found = &s;
      if (!found || found->data.size() != sizeof saved_)
        throw ckpt::RestartError("flaky: " + p.describe() + " has no flaky section");
      std::memcpy(&saved_, found->data.data(), sizeof saved_);
    }
    if (std::getenv("FLAKY_REFUSE")) throw ckpt::RestartError("flaky: the device is not back yet");
  }

  void create(ckpt::RestartContext&) override {
    if (const char* out = std::getenv("FLAKY_OUT")) std::ofstream(out) << saved_ << "\n";
  }

 private:
  uint64_t saved_ = 0;
};

}  // namespace

CKPT_RESTART_KIND(FlakyRestart)
