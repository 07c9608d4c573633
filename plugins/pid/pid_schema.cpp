// Decoder of section "pid" (libckpt/image/tree_sections.h), for ckpt_info.
#include <sys/wait.h>

#include "image_verify.h"
#include "section_schema.h"
#include "tree_sections.h"

namespace ckpt::image {
namespace {

Json zombie_json(const ZombieRecord& z) {
  Json out = {{"vpid", z.vpid}, {"wait_status", z.wait_status}, {"vpgid", z.vpgid}};
  if (WIFEXITED(z.wait_status)) out["exit_code"] = WEXITSTATUS(z.wait_status);
  if (WIFSIGNALED(z.wait_status)) out["signal"] = signal_name(WTERMSIG(z.wait_status));
  return out;
}

Json decode_pid(std::string_view, Bytes bytes) {
  auto p = read_exact<PidSection>(bytes, "pid");
  check_version(p.version, kPidSectionVersion, "pid");
  if (p.zombie_count > kMaxZombies)
    throw SchemaError("pid: " + std::to_string(p.zombie_count) + " zombies, at most " + std::to_string(kMaxZombies));
  // Restart makes the new table next to the old one.
  std::string table = fixed_string(p.pidtable_path);
  if (!table.empty() && !is_plain_path(table))
    throw SchemaError("pid: the pid table " + table + " is not " + kPlainPathRule);
  Json zombies = Json::array();
  for (uint32_t i = 0; i < p.zombie_count; ++i) zombies.push_back(zombie_json(p.zombies[i]));
  return {{"version", p.version},
          {"vpid", p.vpid},
          {"vppid", p.vppid},
          {"vpgid", p.vpgid},
          {"vsid", p.vsid},
          {"real_pid", p.real_pid},
          {"pidtable_path", table},
          {"zombies", zombies}};
}

const SectionSchema kPidSchema{kPidSection, false, decode_pid};
const SchemaRegistration kRegistered(kPidSchema);

}  // namespace
}  // namespace ckpt::image
