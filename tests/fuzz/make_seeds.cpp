// make_seeds DIR [IMAGE...]: writes the fuzzers' seed corpora.
//  - DIR/protocol/, DIR/options/: from the protocol header and the fuzzers'
//    input formats, so the seeds stay right when those change;
//  - DIR/image/, DIR/section/: from real images (made by a checkpoint), cut
//    down to stay small: every record and section, but the data of a few
//    small regions only, once compressed and once raw; and each section
//    alone, as the section fuzzer reads it.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ckpt/protocol.h"
#include "image_reader.h"
#include "image_writer.h"
#include "options_input.h"
#include "protocol_input.h"

namespace {

using namespace ckpt;
using proto::Barrier;
using proto::MsgType;

using Seeds = std::vector<std::pair<std::string, std::string>>;

template <typename T>
std::string bytes(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string message(MsgType type, const std::string& payload = {}, uint64_t generation = 0, uint64_t arg = 0,
                    int32_t status = 0) {
  return bytes(proto::make_header(type, static_cast<uint32_t>(payload.size()), generation, arg, status)) + payload;
}

std::string hello(int pid, bool restart = false, uint32_t size = 0, uint64_t generation = 0) {
  proto::HelloPayload h{};
  h.real_pid = pid + 1000;
  h.virt_pid = pid;
  h.is_restart = restart;
  h.computation_size = size;
  h.generation = generation;
  std::strcpy(h.hostname, "node1");
  std::strcpy(h.progname, "sim");
  std::snprintf(h.unique_id, sizeof h.unique_id, "sim-%d", pid);
  std::strcpy(h.ckptdir, "/tmp/ck");
  return message(MsgType::Hello, bytes(h));
}

std::string reached(Barrier b, uint64_t generation) {
  return message(MsgType::Reached, {}, generation, static_cast<uint64_t>(b));
}

// A checkpoint's REFILLED with the process's pause, a restart's with its time to running.
std::string refilled(uint64_t generation) {
  const stats::RefilledFigures f{stats::kVersion, 0, 7'000'000};
  return message(MsgType::Reached, bytes(f), generation, static_cast<uint64_t>(Barrier::Refilled));
}

std::string restart_refilled(uint64_t generation) {
  const stats::RestartFigures f{stats::kVersion, 1, 90'000'000};
  return message(MsgType::Reached, bytes(f), generation, static_cast<uint64_t>(Barrier::Refilled));
}

std::string written(uint64_t generation, int pid) {
  proto::WrittenPayload w{};
  w.image_size = 123456;
  std::snprintf(w.image_path, sizeof w.image_path, "/tmp/ck/ckpt_sim-%d_g%llu.ckpt", pid,
                static_cast<unsigned long long>(generation));
  // Figures that add up (stats::check), as libckpt's writer sends them.
  stats::ImageFigures& f = w.figures.image;
  w.figures.version = stats::kVersion;
  f.pages_scanned = 300;
  f.pages_skipped_untouched = 200;
  f.pages_skipped_zero = 50;
  f.pages_written = 50;
  f.bytes_raw = 50 * stats::kPageSize;
  f.bytes_compressed = 30000;
  f.write_ns = 20'000'000;
  w.figures.sync_ns = 5'000'000;
  return message(MsgType::Reached, bytes(w), generation, static_cast<uint64_t>(Barrier::Written));
}

// Connections 0 and 1 are workers (pids 100, 101), 2 a ckpt_command.
void two_workers(fuzz::StepWriter& w, bool restart = false) {
  w.connect();
  w.data(0, hello(100, restart, 2, restart ? 3 : 0));
  w.connect();
  w.data(1, hello(101, restart, 2, restart ? 3 : 0));
}

// A whole checkpoint of the two workers that a ckpt_command asks for, up
// to the script write's outcome (the command connection is then closed).
void checkpoint(fuzz::StepWriter& w, uint64_t generation, bool script_fails) {
  w.connect();
  w.data(2, message(MsgType::CmdCheckpoint));
  for (Barrier b : {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed})
    for (uint8_t c : {0, 1}) w.data(c, reached(b, generation));
  for (uint8_t c : {0, 1}) w.data(c, refilled(generation));
  w.data(0, written(generation, 100));
  w.data(1, written(generation, 101));
  w.script_result(script_fails);
}

Seeds protocol_seeds() {
  Seeds out;
  {
    fuzz::StepWriter w;
    two_workers(w);
    checkpoint(w, 1, false);
    w.connect();
    w.data(2, message(MsgType::CmdStatus));
    w.connect();
    w.data(2, message(MsgType::CmdList));
    out.emplace_back("checkpoint", w.bytes());
  }
  {
    fuzz::StepWriter w;
    two_workers(w, true);
    for (uint8_t c : {0, 1}) w.data(c, reached(Barrier::Restarted, 3));
    for (uint8_t c : {0, 1}) w.data(c, restart_refilled(3));
    out.emplace_back("restart", w.bytes());
  }
  {
    fuzz::StepWriter w;
    two_workers(w);
    w.connect();
    w.data(2, message(MsgType::CmdKill));
    w.data(0, message(MsgType::Frozen));
    w.wait_ms(2500);
    w.timer(3, 0);
    out.emplace_back("kill", w.bytes());
  }
  {
    // A checkpoint the application asks for, with a warning, an exec and a
    // failure; then a timeout, an interval and a quit.
    fuzz::StepWriter w;
    two_workers(w);
    w.data(0, message(MsgType::RequestCheckpoint));
    w.data(0, reached(Barrier::Suspended, 1));
    w.data(1, message(MsgType::Warning, "fd 5: socket saved as a placeholder\n", 1));
    w.data(1, message(MsgType::Failed, "No space left on device", 1, 0, 28));
    proto::ExecPayload e{};
    std::strcpy(e.progname, "python3");
    w.data(0, message(MsgType::Exec, bytes(e)));
    w.connect();
    w.data(2, message(MsgType::CmdInterval, {}, 0, 5));
    w.wait_ms(5000);
    w.timer(2, 0);
    w.wait_ms(61000);
    w.timer(0, 0);
    w.connect();
    w.data(2, message(MsgType::CmdQuit));
    out.emplace_back("failure_interval_quit", w.bytes());
  }
  {
    // A failed script write, then a worker that leaves mid-checkpoint.
    fuzz::StepWriter w;
    two_workers(w);
    checkpoint(w, 1, true);
    w.connect();
    w.data(2, message(MsgType::CmdCheckpoint));
    w.data(0, reached(Barrier::Suspended, 2));
    w.disconnect(1);
    out.emplace_back("script_failure_disconnect", w.bytes());
  }
  {
    // Bytes that are no message, and a first message announcing too much.
    fuzz::StepWriter w;
    w.connect();
    w.data(0, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    w.connect();
    w.data(0, bytes(proto::make_header(MsgType::Hello, proto::kMaxPayload)));
    out.emplace_back("garbage", w.bytes());
  }
  return out;
}

Seeds option_seeds() {
  using fuzz::Tool;
  struct Seed {
    const char* name;
    Tool tool;
    std::vector<std::string> args;
    std::vector<std::string> env;
  };
  const std::vector<Seed> seeds = {
      {"launch", Tool::Launch,
       {"--ckptdir", "/tmp/ck", "-i", "60", "--file-policy", "/scratch/*=ignore", "--no-compress", "./app", "-h"},
       {"CKPT_COORD_PORT=7780"}},
      {"launch_env", Tool::Launch,
       {"-j", "-h", "node2", "-p", "7000", "--accept-loss", "--", "prog"},
       {"CKPT_FILE_POLICY=*.log=append\n*.dat=replace", "CKPT_NEW_COORDINATOR=0", "CKPT_INTERVAL=5"}},
      {"restart", Tool::Restart,
       {"--relocate", "/old=/new", "--no-verify", "--new-coordinator", "-p", "0", "a.ckpt", "b.ckpt"},
       {"CKPT_JOIN=no"}},
      {"restart_info", Tool::Restart, {"--info", "--json", "--ckptdir=/tmp/x", "img.ckpt"}, {}},
      {"coordinator", Tool::Coordinator,
       {"--port", "0", "--port-file", "/tmp/p", "--listen", "::", "--timeout", "30", "--daemon", "--exit-on-last"},
       {"CKPT_COORD_LISTEN=0.0.0.0"}},
      {"command", Tool::Command, {"-bc", "-h", "localhost", "--json"}, {"CKPT_COORD_PORT=7779"}},
      {"command_interval", Tool::Command, {"--interval", "30", "-p", "7781"}, {}},
      {"help", Tool::Command, {"--help"}, {}},
  };
  Seeds out;
  for (const Seed& s : seeds) out.emplace_back(s.name, fuzz::encode_options(s.tool, s.args, s.env));
  return out;
}

bool write_all(const std::filesystem::path& dir, const Seeds& seeds) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, data] : seeds) {
    std::ofstream f(dir / name, std::ios::binary);
    f << data;
    if (!f) {
      std::fprintf(stderr, "make_seeds: cannot write %s\n", (dir / name).c_str());
      return false;
    }
  }
  return true;
}

// The largest region whose data a cut-down image keeps, and how many.
constexpr uint64_t kSeedRegionMax = 16 * 1024;
constexpr int kSeedRegionsWithData = 2;

bool write_cut_image(const image::ImageReader& img, const std::string& out, bool compress) {
  image::ImageWriter w;
  bool ok = w.open(out.c_str(), compress) &&
            w.add_record(image::RecordType::Process, &img.process(), sizeof(image::ProcessRecord));
  for (const image::ThreadRecord& t : img.threads())
    ok = ok && w.add_record(image::RecordType::Thread, &t, sizeof t);
  for (const image::Section& s : img.sections())
    ok = ok && w.add_section(s.name.c_str(), s.data.data(), static_cast<uint32_t>(s.data.size()));
  int with_data = 0;
  for (const image::Region& r : img.regions()) {
    image::RegionRecord rec = r.rec;
    const char* path = r.path.empty() ? nullptr : r.path.c_str();
    const uint64_t size = rec.end - rec.start;
    std::vector<char> bytes;
    std::string error;
    if (!(rec.flags & image::kRegionNoData) && rec.stored_size && size <= kSeedRegionMax &&
        with_data < kSeedRegionsWithData) {
      bytes.resize(size);
      if (img.read_region(r, bytes.data(), error)) {
        ++with_data;
      } else {
        bytes.clear();
      }
    }
    if (!bytes.empty() || (rec.flags & image::kRegionFileBacked)) {
      // Its stored page runs (a file-backed region cut down: none of them).
      ok = ok && w.begin_region(rec, path);
      if (!bytes.empty())
        for (const image::PageExtent& e : r.extents) ok = ok && w.add_pages(e.offset, bytes.data() + e.offset, e.size);
      ok = ok && w.end_region();
    } else {
      ok = ok && w.add_region(rec, path, nullptr);
    }
  }
  ok = ok && w.commit();
  if (!ok) std::fprintf(stderr, "make_seeds: %s: %s\n", out.c_str(), w.error());
  return ok;
}

bool image_seeds(const std::filesystem::path& dir, const std::vector<std::string>& images) {
  std::filesystem::create_directories(dir / "image");
  Seeds sections;
  for (const std::string& path : images) {
    std::string error;
    auto img = image::ImageReader::open(path, error);
    if (!img) {
      std::fprintf(stderr, "make_seeds: %s\n", error.c_str());
      return false;
    }
    const std::string stem = std::filesystem::path(path).stem().string();
    if (!write_cut_image(*img, (dir / "image" / (stem + ".lz4.ckpt")).string(), true) ||
        !write_cut_image(*img, (dir / "image" / (stem + ".raw.ckpt")).string(), false))
      return false;
    // Up to three seeds per section name, from different images and of
    // different sizes: one process's section is often the empty case (no
    // timers, no queues), another's the full one.
    for (const image::Section& s : img->sections()) {
      size_t same_name = 0;
      bool same_size = false;
      for (const auto& [file, seed] : sections)
        if (file.compare(0, s.name.size() + 1, s.name + "@") == 0) {
          ++same_name;
          same_size = same_size || seed.size() == s.name.size() + 1 + s.data.size();
        }
      if (same_name < 3 && !same_size)
        sections.emplace_back(s.name + "@" + stem, s.name + '\0' + std::string(s.data.begin(), s.data.end()));
    }
  }
  return write_all(dir / "section", sections);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_seeds DIR [IMAGE...]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const std::vector<std::string> images(argv + 2, argv + argc);
  const bool ok = write_all(dir / "protocol", protocol_seeds()) && write_all(dir / "options", option_seeds()) &&
                  (images.empty() || image_seeds(dir, images));
  return ok ? 0 : 1;
}
