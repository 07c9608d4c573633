// Decoder of section "warnings" (image_format.h), the core's own: what the
// checkpoint saved only as placeholders, one line each.
#include "image_format.h"
#include "section_schema.h"

namespace ckpt::image {
namespace {

Json decode_warnings(std::string_view, Bytes bytes) {
  Json lines = Json::array();
  std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return {{"warnings", lines}};
}

const SectionSchema kWarningsSchema{kWarningsSection, false, decode_warnings};
const SchemaRegistration kRegistered(kWarningsSchema);

}  // namespace
}  // namespace ckpt::image
