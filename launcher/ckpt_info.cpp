// ckpt_info IMAGE... [--json] [--verify]: prints checkpoint images as a human
// summary or as JSON. Exit status: 0 all good, 1 an image is bad, 2 bad usage.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "image_reader.h"

namespace {

void usage(FILE* out) {
  fputs("usage: ckpt_info [--json] [--verify] IMAGE...\n"
        "  --json    print each image as JSON (an array when several are given)\n"
        "  --verify  also check every region's data checksums\n",
        out);
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

  int status = 0;
  bool array = json && images.size() > 1;
  bool first = true;
  if (array) fputs("[\n", stdout);
  for (const std::string& path : images) {
    std::string error;
    auto img = ckpt::image::ImageReader::open(path, error);
    if (img && verify && !img->verify_data(error)) img.reset();
    if (!img) {
      fprintf(stderr, "ckpt_info: %s\n", error.c_str());
      status = 1;
      continue;
    }
    if (json) {
      std::string text = ckpt::image::image_to_json(*img);
      if (array && !first) fputs(",\n", stdout);
      fwrite(text.data(), 1, text.size() - (array ? 1 : 0), stdout);  // array: drop the final newline
    } else {
      if (!first) fputc('\n', stdout);
      fputs(ckpt::image::image_summary(*img).c_str(), stdout);
      if (verify) fputs("data checksums: ok\n", stdout);
    }
    first = false;
  }
  if (array) fputs("\n]\n", stdout);
  if (fflush(stdout) != 0) {
    perror("ckpt_info: stdout");
    return 1;
  }
  return status;
}
