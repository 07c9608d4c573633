// The restart script the coordinator writes after each committed checkpoint:
// ckpt_restart_script.sh, a POSIX sh script that execs
//   ckpt_restart --coord-host H --coord-port P [extra args] IMAGE...
// When the computation ran on several hosts, each image is named HOST:/PATH
// (the host its process ran on): ckpt_restart then restarts each host's
// processes there, through the remote shell, or where its --host map says.
// It accepts --coord-host X / --coord-port Y (also --coord-host=X) to
// override the defaults baked in; every other argument goes to ckpt_restart
// before the images. Because it execs, its exit status is ckpt_restart's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ckpt::coord {

inline constexpr std::string_view kRestartScriptName = "ckpt_restart_script.sh";

struct RestartScriptInfo {
  uint64_t generation = 0;
  std::string when;            // human-readable time of the checkpoint, for the header comment
  std::string coord_host;      // default --coord-host
  unsigned coord_port = 0;     // default --coord-port
  std::string restart_program; // absolute path tried first; "ckpt_restart" from PATH otherwise
  std::vector<std::string> images;  // absolute paths
  // Parallel to images when the computation spans hosts: the host of each
  // image's process; empty when it ran on one host.
  std::vector<std::string> image_hosts;
};

// `s` quoted for sh: it reads back as exactly one word with the same bytes.
std::string shell_quote(std::string_view s);

std::string render_restart_script(const RestartScriptInfo& info);

// The images a script written by render_restart_script names (their paths,
// without any HOST: in front).
std::vector<std::string> restart_script_images(std::string_view script);

}  // namespace ckpt::coord
