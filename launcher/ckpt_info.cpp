// ckpt_info IMAGE... [--json] [--verify]: prints checkpoint images as a human
// summary or as JSON. Exit status: 0 all good, 1 an image is bad, 2 bad usage.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "image_info.h"

namespace {

using ckpt::image::ImageReader;

void usage(FILE* out) {
  fputs("usage: ckpt_info [--json] [--verify] IMAGE...\n"
        "  --json    print the images as a JSON array, one object per image\n"
        "  --verify  also check every region's data checksums\n",
        out);
}

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
  bool json = false, verify = false;
  std::vector<std::string> images;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (!strcmp(a, "--json")) json = true;
    else if (!strcmp(a, "--verify")) verify = true;
    else if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout), 0;
    else if (!strcmp(a, "--")) images.insert(images.end(), argv + i + 1, argv + argc), i = argc;
    else if (a[0] == '-' && a[1]) return fprintf(stderr, "ckpt_info: unknown option %s\n", a), usage(stderr), 2;
    else images.push_back(a);
  }
  if (images.empty()) return usage(stderr), 2;

  int status = json ? print_json(images, verify) : print_summaries(images, verify);
  if (fflush(stdout) != 0) {
    perror("ckpt_info: stdout");
    return 1;
  }
  return status;
}
