// Decoder of section "layout" (layout_section.h), the core's own section.
#include "layout_section.h"
#include "section_schema.h"

namespace ckpt::image {
namespace {

Json decode_layout(std::string_view, Bytes bytes) {
  auto l = read_exact<LayoutSection>(bytes, "layout");
  check_version(l.version, kLayoutSectionVersion, "layout");
  return {
      {"version", l.version},
      {"start_code", hex_string(l.start_code)},
      {"end_code", hex_string(l.end_code)},
      {"start_data", hex_string(l.start_data)},
      {"end_data", hex_string(l.end_data)},
      {"start_brk", hex_string(l.start_brk)},
      {"brk", hex_string(l.brk)},
      {"start_stack", hex_string(l.start_stack)},
      {"arg_start", hex_string(l.arg_start)},
      {"arg_end", hex_string(l.arg_end)},
      {"env_start", hex_string(l.env_start)},
      {"env_end", hex_string(l.env_end)},
  };
}

const SectionSchema kLayoutSchema{kLayoutSection, false, decode_layout};
const SchemaRegistration kRegistered(kLayoutSchema);

}  // namespace
}  // namespace ckpt::image
