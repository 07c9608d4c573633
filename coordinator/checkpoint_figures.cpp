#include "checkpoint_figures.h"

#include <algorithm>
#include <cstdio>

namespace ckpt::coord {

using cli::Json;

double ms(uint64_t ns) { return static_cast<double>(ns / 1000) / 1000.0; }

namespace {

// The image writer's counts, by their names in the JSON and in README.md.
struct Count {
  const char* name;
  uint64_t stats::ImageFigures::*field;
};
constexpr Count kCounts[] = {
    {"pages_scanned", &stats::ImageFigures::pages_scanned},
    {"pages_skipped_untouched", &stats::ImageFigures::pages_skipped_untouched},
    {"pages_skipped_zero", &stats::ImageFigures::pages_skipped_zero},
    {"pages_skipped_file", &stats::ImageFigures::pages_skipped_file},
    {"pages_skipped_unchanged", &stats::ImageFigures::pages_skipped_unchanged},
    {"pages_written", &stats::ImageFigures::pages_written},
    {"bytes_raw", &stats::ImageFigures::bytes_raw},
    {"bytes_compressed", &stats::ImageFigures::bytes_compressed},
};

Json optional_ms(std::optional<uint64_t> ns) { return ns ? Json(ms(*ns)) : Json(nullptr); }

std::optional<uint64_t> longest(std::optional<uint64_t> a, std::optional<uint64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

std::string size_text(double bytes) {
  char buf[32];
  if (bytes >= (1u << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1u << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024);
  return buf;
}

std::string ms_text(const Json& v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", v.get<double>());
  return buf;
}

uint64_t count(const Json& totals, const char* name) {
  const auto it = totals.find(name);
  return it != totals.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

}  // namespace

Json checkpoint_figures_json(const std::vector<ProcessFigures>& processes,
                             std::optional<std::chrono::nanoseconds> freeze) {
  Json list = Json::array();
  Json totals = Json::object();
  for (const Count& c : kCounts) totals[c.name] = uint64_t{0};
  std::optional<uint64_t> pause, write, sync;
  size_t reporting = 0;
  for (const ProcessFigures& p : processes) {
    Json one = {{"id", p.id}, {"program", p.program}, {"pid", p.pid}, {"host", p.host}, {"image", p.image},
                {"pause_ms", optional_ms(p.pause_ns)}};
    pause = longest(pause, p.pause_ns);
    if (p.written) {
      ++reporting;
      const stats::ImageFigures& f = p.written->image;
      for (const Count& c : kCounts) {
        one[c.name] = f.*c.field;
        totals[c.name] = totals[c.name].get<uint64_t>() + f.*c.field;
      }
      one["write_ms"] = ms(f.write_ns);
      one["sync_ms"] = ms(p.written->sync_ns);
      write = longest(write, f.write_ns);
      sync = longest(sync, p.written->sync_ns);
    }
    list.push_back(std::move(one));
  }
  totals["write_ms"] = optional_ms(write);  // the processes write at once: the longest
  totals["sync_ms"] = optional_ms(sync);
  totals["processes_reporting"] = static_cast<uint64_t>(reporting);
  const Json freeze_ms = freeze ? Json(ms(static_cast<uint64_t>(std::max<int64_t>(0, freeze->count())))) : Json(nullptr);
  return {{"freeze_ms", freeze_ms},
          {"pause_ms", optional_ms(pause)},
          {"totals", std::move(totals)},
          {"processes", std::move(list)}};
}

std::string checkpoint_figures_line(const Json& figures) {
  if (!figures.is_object()) return {};
  std::string line;
  auto part = [&](const std::string& text) { line += (line.empty() ? "" : "; ") + text; };
  if (const auto p = figures.find("pause_ms"); p != figures.end() && p->is_number()) part("pause " + ms_text(*p));
  if (const auto f = figures.find("freeze_ms"); f != figures.end() && f->is_number()) part("freeze " + ms_text(*f));
  const auto t = figures.find("totals");
  if (t != figures.end() && t->is_object() && count(*t, "processes_reporting") > 0) {
    const uint64_t skipped = count(*t, "pages_skipped_untouched") + count(*t, "pages_skipped_zero") +
                             count(*t, "pages_skipped_file") + count(*t, "pages_skipped_unchanged");
    part("pages " + std::to_string(count(*t, "pages_scanned")) + " scanned, " +
         std::to_string(count(*t, "pages_written")) + " written, " + std::to_string(skipped) + " skipped (untouched " +
         std::to_string(count(*t, "pages_skipped_untouched")) + ", zero " +
         std::to_string(count(*t, "pages_skipped_zero")) + ", file " + std::to_string(count(*t, "pages_skipped_file")) +
         ", unchanged " + std::to_string(count(*t, "pages_skipped_unchanged")) + ")");
    part(size_text(static_cast<double>(count(*t, "bytes_raw"))) + " raw, " +
         size_text(static_cast<double>(count(*t, "bytes_compressed"))) + " stored");
    if (const auto w = t->find("write_ms"); w != t->end() && w->is_number()) part("write " + ms_text(*w));
    if (const auto s = t->find("sync_ms"); s != t->end() && s->is_number()) part("sync " + ms_text(*s));
  }
  return line;
}

}  // namespace ckpt::coord
