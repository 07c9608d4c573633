// ckpt_info IMAGE... [--json] [--verify]: prints checkpoint images as a human
// summary or as JSON. Exit status: 0 all good, 1 an image is bad, 2 bad usage.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "image_info.h"

namespace {

using ckpt::image::ImageReader;

// The image at `path`, checked (and its data too with `verify`); nullptr
// with `error` set if it is bad.
std::unique_ptr<ImageReader> open_image(const std::string& path, bool verify, std::string& error) {
  auto img = ImageReader::open(path, error);
  if (img && verify && !img->verify_data(error)) img.reset();
  return img;
}

// One JSON array, an object per image, also for a single image; a bad image
// is an object {"image", "error"} and its reason also goes to stderr.
int print_json(const std::vector<std::string>& paths, bool verify) {
  int status = 0;
  ckpt::image::Json all = ckpt::image::Json::array();
  for (const std::string& path : paths) {
    std::string error;
    auto img = open_image(path, verify, error);
    if (img) {
      all.push_back(ckpt::image::image_json(*img));
      continue;
    }
    fprintf(stderr, "ckpt_info: %s\n", error.c_str());
    all.push_back(ckpt::image::image_error_json(path, error));
    status = 1;
  }
  fputs(ckpt::image::json_text(all).c_str(), stdout);
  return status;
}

int print_summaries(const std::vector<std::string>& paths, bool verify) {
  int status = 0;
  bool first = true;
  for (const std::string& path : paths) {
    std::string error;
    auto img = open_image(path, verify, error);
    if (!img) {
      fprintf(stderr, "ckpt_info: %s\n", error.c_str());
      status = 1;
      continue;
    }
    if (!first) fputc('\n', stdout);
    fputs(ckpt::image::image_summary(*img).c_str(), stdout);
    if (verify) fputs("data checksums: ok\n", stdout);
    first = false;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  ckpt::cli::Parser cli("ckpt_info", "ckpt_info [OPTION]... IMAGE...",
                        "Print what checkpoint images hold: processes, threads, memory regions,\n"
                        "saved sections, sizes and time.",
                        ckpt::cli::process_environment());
  cli.flag("--json", "print the images as one JSON array, an object per image");
  cli.flag("--verify", "also check every region's data checksums");
  cli.operands("IMAGE", "checkpoint images");
  cli.exit_statuses("an image is bad (unreadable, damaged, or its checksums do not match)", false);
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

  int status = json ? print_json(images, verify) : print_summaries(images, verify);
  if (fflush(stdout) != 0) {
    perror("ckpt_info: stdout");
    return 1;
  }
  return status;
}
