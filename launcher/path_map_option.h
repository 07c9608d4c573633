// --path-map VIRTUAL=REAL (ckpt_launch, ckpt_restart): the path map of
// plugins/path, checked and encoded as CKPT_PATH_MAP's value.
#pragma once

#include <optional>
#include <string>

#include "cli.h"

namespace ckpt {

// The --path-map option's definition, with `help` for the tool.
void add_path_map_option(cli::Parser& p, const std::string& help);

// The map given: every --path-map in command-line order; without any, the
// variable `twin` (CKPT_PATH_MAP's format, one entry per line); without it,
// DMTCP_PATH_MAPPING ("VIRTUAL:REAL;VIRTUAL:REAL..."). nullopt if none of
// them is. Throws cli::UsageError naming the entry that is wrong.
std::optional<std::string> path_map_option(const cli::Parser& p, const std::string& twin);

}  // namespace ckpt
