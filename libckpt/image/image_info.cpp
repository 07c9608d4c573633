// ckpt_info's view of an image: JSON and the human summary.
#include "image_info.h"

#include <stddef.h>
#include <sys/mman.h>
#include <time.h>

#include <cinttypes>
#include <cstdio>

#include "section_schema.h"

namespace ckpt::image {
namespace {



std::string prot_string(const RegionRecord& r) {
  std::string s = "---";
  if (r.prot & PROT_READ) s[0] = 'r';
  if (r.prot & PROT_WRITE) s[1] = 'w';
  if (r.prot & PROT_EXEC) s[2] = 'x';
  s += (r.flags & kRegionShared) ? 's' : 'p';
  return s;
}

std::vector<const char*> region_flag_names(uint32_t f) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kRegionPrivate, "private"}, {kRegionShared, "shared"}, {kRegionAnonymous, "anonymous"},
      {kRegionFile, "file"},       {kRegionHeap, "heap"},     {kRegionStack, "stack"},
      {kRegionVdso, "vdso"},       {kRegionNoData, "nodata"}, {kRegionLost, "lost"},
      {kRegionExternal, "external"}, {kRegionFileBacked, "file_backed"}};
  std::vector<const char*> out;
  for (auto [bit, name] : kNames)
    if (f & bit) out.push_back(name);
  return out;
}

std::vector<const char*> thread_flag_names(uint32_t f) {
  std::vector<const char*> out;
  if (f & kThreadLeader) out.push_back("leader");
  if (f & kThreadCheckpointer) out.push_back("checkpointer");
  return out;
}

std::string time_string(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm)) return "?";
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ns % 1000000000 / 1000000));
  return buf;
}

std::string human_size(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  char buf[32];
  if (u == 0) snprintf(buf, sizeof(buf), "%" PRIu64 " B", bytes);
  else snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  return buf;
}

struct Totals {
  uint64_t mapped = 0;  // bytes of all regions
  uint64_t saved = 0;   // raw bytes of the stored pages
  uint64_t stored = 0;  // bytes their data takes in the file
  uint64_t pages = 0;           // of regions that have data
  uint64_t stored_pages = 0;    // of those, stored in the image
  uint64_t skipped_pages = 0;   // of those, not stored: never touched, zero, or the file's
  uint64_t inherited_pages = 0;  // of the skipped, read from the parent image
  double ratio() const { return stored ? static_cast<double>(saved) / stored : 1.0; }
};

Totals totals(const ImageReader& img) {
  Totals t;
  for (const Region& r : img.regions()) {
    t.mapped += r.rec.end - r.rec.start;
    if (!(r.rec.flags & kRegionNoData)) {
      t.saved += r.rec.stored_size;
      t.stored += r.rec.data_size;
      t.pages += r.pages();
      t.stored_pages += r.stored_pages();
      t.skipped_pages += r.pages() - r.stored_pages();
      t.inherited_pages += r.inherited_pages();
    }
  }
  return t;
}

// Where each FileHeader field lies in the file.
Json header_fields() {
  Json out = Json::object();
  auto field = [&](const char* name, size_t offset, size_t size) { out[name] = {{"offset", offset}, {"size", size}}; };
#define CKPT_HEADER_FIELD(f) field(#f, offsetof(FileHeader, f), sizeof(FileHeader::f))
  CKPT_HEADER_FIELD(magic);
  CKPT_HEADER_FIELD(version);
  CKPT_HEADER_FIELD(arch);
  CKPT_HEADER_FIELD(page_size);
  CKPT_HEADER_FIELD(flags);
  CKPT_HEADER_FIELD(meta_offset);
  CKPT_HEADER_FIELD(meta_size);
  CKPT_HEADER_FIELD(file_size);
  CKPT_HEADER_FIELD(meta_crc);
  CKPT_HEADER_FIELD(header_crc);
  CKPT_HEADER_FIELD(image_id);
  CKPT_HEADER_FIELD(generation);
  CKPT_HEADER_FIELD(parent_generation);
  CKPT_HEADER_FIELD(parent_id);
  CKPT_HEADER_FIELD(mode);
  CKPT_HEADER_FIELD(parent_name);
#undef CKPT_HEADER_FIELD
  return out;
}

Json process_json(const ProcessRecord& p) {
  return {{"virt_pid", p.virt_pid},
          {"real_pid", p.real_pid},
          {"virt_ppid", p.virt_ppid},
          {"uid", p.uid},
          {"gid", p.gid},
          {"computation_size", p.computation_size},
          {"thread_count", p.thread_count},
          {"generation", p.generation},
          {"computation_id", hex_string(p.computation_id)},
          {"checkpoint_time_ns", p.checkpoint_time_ns},
          {"checkpoint_time", time_string(p.checkpoint_time_ns)},
          {"restart_info_slot", hex_string(p.restart_info_slot)},
          {"start_brk", hex_string(p.start_brk)},
          {"brk", hex_string(p.brk)},
          {"unique_id", fixed_string(p.unique_id)},
          {"progname", fixed_string(p.progname)},
          {"hostname", fixed_string(p.hostname)},
          {"cwd", fixed_string(p.cwd)},
          {"exe", fixed_string(p.exe)}};
}

Json thread_json(const ThreadRecord& th) {
  return {{"virt_tid", th.virt_tid},
          {"real_tid", th.real_tid},
          {"flags", thread_flag_names(th.flags)},
          {"fs_base", hex_string(th.fs_base)},
          {"clear_child_tid", hex_string(th.clear_child_tid)},
          {"robust_list", hex_string(th.robust_list)},
          {"robust_list_len", th.robust_list_len},
          {"rseq_addr", hex_string(th.rseq_addr)},
          {"rseq_len", th.rseq_len},
          {"rseq_sig", hex_string(th.rseq_sig)},
          {"sigmask", hex_string(th.sigmask)},
          {"blocked", signal_names(th.sigmask)},
          {"context",
           {{"rip", hex_string(th.ctx.rip)},
            {"rsp", hex_string(th.ctx.rsp)},
            {"rbp", hex_string(th.ctx.rbp)},
            {"rbx", hex_string(th.ctx.rbx)},
            {"r12", hex_string(th.ctx.r12)},
            {"r13", hex_string(th.ctx.r13)},
            {"r14", hex_string(th.ctx.r14)},
            {"r15", hex_string(th.ctx.r15)},
            {"mxcsr", hex_string(th.ctx.mxcsr)},
            {"fpu_cw", hex_string(th.ctx.fpu_cw)}}}};
}

Json region_json(const Region& r) {
  Json extents = Json::array();
  for (const PageExtent& e : r.extents) extents.push_back({{"offset", e.offset}, {"size", e.size}});
  bool data = !(r.rec.flags & kRegionNoData);
  Json file = nullptr;
  if (r.rec.flags & kRegionFileBacked)
    file = {{"dev", r.rec.file_dev}, {"ino", r.rec.file_ino}, {"size", r.rec.file_size},
            {"mtime_ns", r.rec.file_mtime_ns}};
  return {{"start", hex_string(r.rec.start)},
          {"end", hex_string(r.rec.end)},
          {"size", r.rec.end - r.rec.start},
          {"prot", prot_string(r.rec)},
          {"flags", region_flag_names(r.rec.flags)},
          {"path", r.path},
          {"file_offset", r.rec.file_offset},
          {"data_offset", r.rec.data_offset},
          {"data_size", r.rec.data_size},
          {"crc", hex_string(r.rec.crc)},
          {"pages", r.pages()},
          {"stored_pages", data ? r.stored_pages() : 0},
          {"skipped_pages", data ? r.pages() - r.stored_pages() : 0},
          {"inherited_pages", r.inherited_pages()},
          {"stored_size", r.rec.stored_size},
          {"extents", extents},
          {"chunks", r.rec.chunk_count},
          {"backing_file", file}};
}

// ---- the summary's view of decoded sections ----------------------------------

constexpr size_t kTextCap = 160;  // characters of one value the summary shows

std::string scalar_text(const Json& v) {
  std::string s;
  if (v.is_string()) s = v.get<std::string>();
  else if (v.is_array()) {
    for (const Json& e : v) s += (s.empty() ? "" : ",") + scalar_text(e);
    if (s.empty()) s = "-";
  } else s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > kTextCap) s = s.substr(0, kTextCap) + "... (" + std::to_string(s.size() - kTextCap) + " more)";
  return s;
}

bool is_flat(const Json& v) {
  if (!v.is_array()) return v.is_primitive();
  for (const Json& e : v)
    if (!e.is_primitive()) return false;
  return true;
}

// An object as "key value  key value" on one line, then its nested objects
// and arrays of objects on lines of their own, indented.
void render(const Json& obj, int indent, std::string& out) {
  std::string pad(indent, ' '), line;
  for (auto& [key, value] : obj.items())
    if (is_flat(value)) line += (line.empty() ? "" : "  ") + key + " " + scalar_text(value);
  if (!line.empty()) out += pad + line + "\n";
  for (auto& [key, value] : obj.items()) {
    if (is_flat(value)) continue;
    if (value.is_object()) {
      out += pad + key + ":\n";
      render(value, indent + 2, out);
    } else {
      out += pad + key + " (" + std::to_string(value.size()) + "):\n";
      for (const Json& e : value) {
        if (e.is_object()) render(e, indent + 2, out);
        else out += pad + "  " + scalar_text(e) + "\n";
      }
    }
  }
}

void render_section(const Json& s, std::string& out) {
  out += "  " + s["name"].get<std::string>() + " (" + human_size(s["size"].get<uint64_t>());
  if (s["schema"].is_null()) {
    out += ", no decoder: first " + std::to_string(s["hex_shown"].get<size_t>()) + " bytes in hex)\n";
    out += "    " + scalar_text(s["hex"]) + "\n";
  } else if (s.contains("error")) {
    out += "): cannot decode: " + s["error"].get<std::string>() + "\n";
  } else {
    out += "):\n";
    render(s["content"], 4, out);
  }
}

}  // namespace

Json image_json(const ImageReader& img) {
  const FileHeader& h = img.header();
  Totals t = totals(img);
  Json threads = Json::array(), regions = Json::array(), sections = Json::array();
  for (const ThreadRecord& th : img.threads()) threads.push_back(thread_json(th));
  for (const Region& r : img.regions()) regions.push_back(region_json(r));
  for (const Section& s : img.sections()) sections.push_back(decode_section(s.name, s.data));
  return {{"image", img.path()},
          {"format_version", h.version},
          {"arch", arch_name(h.arch)},
          {"page_size", h.page_size},
          {"compressed", img.compressed()},
          {"file_size", h.file_size},
          {"header_size", kHeaderSize},
          {"header_fields", header_fields()},
          {"meta_offset", h.meta_offset},
          {"meta_size", h.meta_size},
          {"meta_crc", hex_string(h.meta_crc)},
          {"header_crc", hex_string(h.header_crc)},
          {"image_id", hex_string(h.image_id)},
          {"mode", checkpoint_mode_name(h.mode)},
          {"incremental", img.incremental()},
          {"parent",
           img.incremental() ? Json{{"generation", h.parent_generation},
                                    {"image_id", hex_string(h.parent_id)},
                                    {"name", fixed_string(h.parent_name)}}
                             : Json(nullptr)},
          {"process", process_json(img.process())},
          {"threads", threads},
          {"regions", regions},
          {"sections", sections},
          {"totals",
           {{"regions", img.regions().size()},
            {"mapped_bytes", t.mapped},
            {"saved_bytes", t.saved},
            {"stored_pages", t.stored_pages},
            {"skipped_pages", t.skipped_pages},
            {"inherited_pages", t.inherited_pages},
            {"stored_bytes", t.stored},
            {"compression_ratio", t.ratio()}}}};
}

Json image_error_json(const std::string& path, const std::string& error) { return {{"image", path}, {"error", error}}; }

std::string json_text(const Json& value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string image_summary(const ImageReader& img) {
  const FileHeader& h = img.header();
  const ProcessRecord& p = img.process();
  Totals t = totals(img);
  std::string s;
  auto add = [&](const char* fmt, auto... args) {
    size_t old = s.size();
    int n = snprintf(nullptr, 0, fmt, args...);
    s.resize(old + n + 1);
    snprintf(s.data() + old, n + 1, fmt, args...);
    s.resize(old + n);
  };
  add("image %s: format %u, %s, %s, %s (data %s, metadata %s at offset %" PRIu64 ")\n", img.path().c_str(), h.version,
      arch_name(h.arch), img.compressed() ? "lz4-compressed" : "uncompressed", human_size(h.file_size).c_str(),
      human_size(t.stored).c_str(), human_size(h.meta_size).c_str(), h.meta_offset);
  if (img.incremental())
    add("checkpoint mode: incremental over generation %" PRIu64 " (parent %s, image id %s): %" PRIu64
        " pages stored, %" PRIu64 " inherited\n",
        h.parent_generation, fixed_string(h.parent_name).c_str(), hex_string(h.parent_id).c_str(), t.stored_pages,
        t.inherited_pages);
  else
    add("checkpoint mode: %s: %" PRIu64 " pages stored\n", checkpoint_mode_name(h.mode), t.stored_pages);
  add("process %d (real pid %d, parent %d, uid %u, gid %u): %s\n", p.virt_pid, p.real_pid, p.virt_ppid, p.uid, p.gid,
      fixed_string(p.progname).c_str());
  add("  exe %s\n  cwd %s\n", fixed_string(p.exe).c_str(), fixed_string(p.cwd).c_str());
  add("  host %s, checkpointed %s, generation %" PRIu64 " of computation %s, one of %u processes, id %s\n",
      fixed_string(p.hostname).c_str(), time_string(p.checkpoint_time_ns).c_str(), p.generation,
      hex_string(p.computation_id).c_str(), p.computation_size, fixed_string(p.unique_id).c_str());
  add("  brk %s (start %s)\n", hex_string(p.brk).c_str(), hex_string(p.start_brk).c_str());
  add("threads (%zu):\n", img.threads().size());
  for (const ThreadRecord& th : img.threads()) {
    std::string flags;
    for (const char* n : thread_flag_names(th.flags)) flags = flags + " " + n;
    add("  tid %d (real %d)%s: rip %s rsp %s fs_base %s blocked %s\n", th.virt_tid, th.real_tid, flags.c_str(),
        hex_string(th.ctx.rip).c_str(), hex_string(th.ctx.rsp).c_str(), hex_string(th.fs_base).c_str(),
        scalar_text(signal_names(th.sigmask)).c_str());
  }
  add("regions (%zu, %s mapped, %s saved, %s stored, ratio %.2f; pages %" PRIu64 " stored, %" PRIu64
      " skipped):\n",
      img.regions().size(), human_size(t.mapped).c_str(), human_size(t.saved).c_str(), human_size(t.stored).c_str(),
      t.ratio(), t.stored_pages, t.skipped_pages);
  for (const Region& r : img.regions()) {
    std::string flags;
    for (const char* n : region_flag_names(r.rec.flags)) flags += (flags.empty() ? "" : ",") + std::string(n);
    add("  %016" PRIx64 "-%016" PRIx64 " %s %10s  stored %10s  %-24s", r.rec.start, r.rec.end,
        prot_string(r.rec).c_str(), human_size(r.rec.end - r.rec.start).c_str(),
        (r.rec.flags & kRegionNoData) ? "-" : human_size(r.rec.data_size).c_str(), flags.c_str());
    s += r.path;
    if (r.rec.flags & kRegionFile) s += " @" + hex_string(r.rec.file_offset);
    if (!(r.rec.flags & kRegionNoData))
      add(" [pages %" PRIu64 " stored, %" PRIu64 " skipped (%" PRIu64 " inherited); data at %" PRIu64 ", crc %08x]",
          r.stored_pages(), r.pages() - r.stored_pages(), r.inherited_pages(), r.rec.data_offset, r.rec.crc);
    s += '\n';
  }
  add("sections (%zu):\n", img.sections().size());
  for (const Section& sec : img.sections()) render_section(decode_section(sec.name, sec.data), s);
  return s;
}

}  // namespace ckpt::image
