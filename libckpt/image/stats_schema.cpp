// Decoder of section "stats" (stats_section.h), the core's own section.
#include "section_schema.h"
#include "stats_section.h"

namespace ckpt::image {
namespace {

// Milliseconds to the microsecond, as ckpt_command prints durations.
double ms(uint64_t ns) { return static_cast<double>(ns / 1000) / 1000.0; }

Json decode_stats(std::string_view, Bytes bytes) {
  auto s = read_exact<StatsSection>(bytes, "stats");
  check_version(s.version, kStatsSectionVersion, "stats");
  const stats::ImageFigures& f = s.figures;
  // An image can be crafted: figures that cannot be true are refused, not shown.
  if (const char* why = stats::check(f)) throw SchemaError(std::string("stats: ") + why);
  return {
      {"version", s.version},
      {"pages_scanned", f.pages_scanned},
      {"pages_skipped_untouched", f.pages_skipped_untouched},
      {"pages_skipped_zero", f.pages_skipped_zero},
      {"pages_skipped_file", f.pages_skipped_file},
      {"pages_skipped_unchanged", f.pages_skipped_unchanged},
      {"pages_written", f.pages_written},
      {"bytes_raw", f.bytes_raw},
      {"bytes_compressed", f.bytes_compressed},
      {"write_ms", ms(f.write_ns)},
  };
}

const SectionSchema kStatsSchema{kStatsSection, false, decode_stats};
const SchemaRegistration kRegistered(kStatsSchema);

}  // namespace
}  // namespace ckpt::image
