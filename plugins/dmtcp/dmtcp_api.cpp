// DMTCP's application interface (dmtcp.h in this folder) on ckpt's public API.
#include <stdlib.h>

#include "ckpt/plugin.h"

#include "dmtcp.h"

// The header's macros (which let a program run without any checkpointer)
// would rename the definitions below.
#undef dmtcp_is_enabled
#undef dmtcp_checkpoint
#undef dmtcp_disable_ckpt
#undef dmtcp_enable_ckpt
#undef dmtcp_get_ckpt_filename
#undef dmtcp_get_ckpt_dir
#undef dmtcp_get_local_status
#undef dmtcp_get_generation

extern "C" {

int dmtcp_is_enabled(void) { return ckpt_is_enabled(); }

int dmtcp_checkpoint(void) {
  if (!ckpt_is_enabled()) return DMTCP_NOT_PRESENT;
  switch (ckpt_checkpoint()) {
    case CKPT_CHECKPOINTED: return DMTCP_AFTER_CHECKPOINT;
    case CKPT_RESTARTED: return DMTCP_AFTER_RESTART;
    default: return 0;
  }
}

int dmtcp_disable_ckpt(void) {
  if (!ckpt_is_enabled()) return DMTCP_NOT_PRESENT;
  ckpt_delay_checkpoints();
  return 1;
}

int dmtcp_enable_ckpt(void) {
  if (!ckpt_is_enabled()) return DMTCP_NOT_PRESENT;
  ckpt_allow_checkpoints();
  return 1;
}

const char* dmtcp_get_ckpt_filename(void) {
  const char* image = ckpt_last_image();
  return image[0] ? image : nullptr;
}

const char* dmtcp_get_ckpt_dir(void) { return ckpt_image_dir(); }

const char* dmtcp_get_tmpdir(void) {
  if (ckpt_is_enabled()) return ckpt_tmpdir();
  const char* tmp = getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

int dmtcp_get_ckpt_signal(void) { return ckpt_suspend_signal(); }

uint32_t dmtcp_get_generation(void) {
  int checkpoints = 0, restarts = 0;
  ckpt_local_counts(&checkpoints, &restarts);
  return static_cast<uint32_t>(checkpoints + restarts);
}

int dmtcp_get_local_status(int* numCheckpoints, int* numRestarts) {
  if (!ckpt_is_enabled()) return DMTCP_NOT_PRESENT;
  ckpt_local_counts(numCheckpoints, numRestarts);
  return DMTCP_IS_PRESENT;
}

}  // extern "C"
