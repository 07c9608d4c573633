// Section "stats" (libckpt core): the figures the image writer counted while
// it wrote this image (ckpt/checkpoint_stats.h). Written last, once every
// page is written; what only the commit knows (sync time) and what only the
// process knows after the image is begun (its pause) are not in the image:
// the coordinator has them (ckpt_command --checkpoint --json).
#pragma once

#include <stdint.h>

#include "ckpt/checkpoint_stats.h"

namespace ckpt::image {

inline constexpr char kStatsSection[] = "stats";
inline constexpr uint32_t kStatsSectionVersion = 1;

struct StatsSection {
  uint32_t version;  // kStatsSectionVersion
  uint32_t reserved;
  stats::ImageFigures figures;
};

}  // namespace ckpt::image
