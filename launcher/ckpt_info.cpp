// ckpt_info IMAGE... [--json] [--verify]: prints checkpoint images as a human
// summary or as JSON. With --verify, the images must pass what ckpt_restart
// checks of them (image_verify.h), as one restart set. Exit status: 0 all
// good, 1 an image is bad, 2 bad usage.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "image_info.h"
#include "image_verify.h"

namespace {

using ckpt::image::ImageReader;

// One image as given: read (and verified), or why not.
struct Entry {
  std::string path;
  std::unique_ptr<ImageReader> img;
  std::string error;
};

// Every image, checked (with `verify`, as ckpt_restart checks them); each
// bad one's reason goes to stderr.
std::vector<Entry> read_images(const std::vector<std::string>& paths, bool verify) {
  const ckpt::image::RestartHost host = ckpt::image::RestartHost::current();
  std::vector<Entry> out;
  for (const std::string& path : paths) {
    Entry& e = out.emplace_back();
    e.path = path;
    e.img = ImageReader::open(path, e.error);
    if (e.img && verify && !(ckpt::image::verify_image(*e.img, host, e.error) && e.img->verify_data(e.error)))
      e.img.reset();
    if (!e.img) fprintf(stderr, "ckpt_info: %s\n", e.error.c_str());
  }
  return out;
}

// With --verify, images that are each good must also be one restart set.
bool check_set(const std::vector<Entry>& entries) {
  std::vector<const ImageReader*> images;
  for (const Entry& e : entries) images.push_back(e.img.get());
  std::string error;
  if (ckpt::image::verify_image_set(images, error)) return true;
  fprintf(stderr, "ckpt_info: %s\n", error.c_str());
  return false;
}

// One JSON array, an object per image, also for a single image; a bad image
// is an object {"image", "error"}.
void print_json(const std::vector<Entry>& entries) {
  ckpt::image::Json all = ckpt::image::Json::array();
  for (const Entry& e : entries)
    all.push_back(e.img ? ckpt::image::image_json(*e.img) : ckpt::image::image_error_json(e.path, e.error));
  fputs(ckpt::image::json_text(all).c_str(), stdout);
}

void print_summaries(const std::vector<Entry>& entries, bool verify) {
  bool first = true;
  for (const Entry& e : entries) {
    if (!e.img) continue;
    if (!first) fputc('\n', stdout);
    fputs(ckpt::image::image_summary(*e.img).c_str(), stdout);
    if (verify) fputs("verified: ok\n", stdout);
    first = false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ckpt::cli::Parser cli("ckpt_info", "ckpt_info [OPTION]... IMAGE...",
                        "Print what checkpoint images hold: processes, threads, memory regions,\n"
                        "saved sections, sizes and time.",
                        ckpt::cli::process_environment());
  cli.flag("--json", "print the images as one JSON array, an object per image");
  cli.flag("--verify",
           "also check every region's data checksums and everything else ckpt_restart checks of the "
           "images, taken together as one restart");
  cli.operands("IMAGE", "checkpoint images");
  cli.exit_statuses(
      "an image is bad (unreadable, damaged, its checksums do not match, or with --verify one ckpt_restart would refuse)",
      false);
  std::string error;
  auto need_image = [&] {
    if (cli.rest().empty()) throw ckpt::cli::UsageError("no image given (try --help)");
  };
  switch (cli.run(argc, argv, need_image, error)) {
    case ckpt::cli::Outcome::Help: fputs(cli.help().c_str(), stdout); return ckpt::cli::kExitOk;
    case ckpt::cli::Outcome::Version: puts(ckpt::cli::version_line(cli.tool()).c_str()); return ckpt::cli::kExitOk;
    case ckpt::cli::Outcome::Error: fprintf(stderr, "%s\n", error.c_str()); return ckpt::cli::kExitUsage;
    case ckpt::cli::Outcome::Run: break;
  }
  const bool json = cli.given("--json"), verify = cli.given("--verify");
  const std::vector<std::string>& images = cli.rest();

  std::vector<Entry> entries = read_images(images, verify);
  bool good = std::all_of(entries.begin(), entries.end(), [](const Entry& e) { return e.img != nullptr; });
  if (good && verify) good = check_set(entries);
  if (json) print_json(entries);
  else print_summaries(entries, verify);
  int status = good ? 0 : 1;
  if (fflush(stdout) != 0) {
    perror("ckpt_info: stdout");
    return 1;
  }
  return status;
}
