// ckpt_info IMAGE... [--json] [--verify]: prints checkpoint images as a human
// summary or as JSON. Exit status: 0 all good, 1 an image is bad, 2 bad usage.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli.h"
#include "image_reader.h"

int main(int argc, char** argv) {
  ckpt::cli::Parser cli("ckpt_info", "ckpt_info [OPTION]... IMAGE...",
                        "Print what checkpoint images hold: processes, threads, memory regions,\n"
                        "saved sections, sizes and time.",
                        ckpt::cli::process_environment());
  cli.flag("--json", "print each image as JSON (an array when several are given)");
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
