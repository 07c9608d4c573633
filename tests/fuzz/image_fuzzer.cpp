// Fuzzes the image reader and what ckpt_info and ckpt_restart --verify do
// with an image: open (header, metadata, records, region bounds, chunk
// chains), verify every region's data, decode every section to JSON and to
// the human summary, and read the descriptors as ckpt_restart's fd kind
// does before it restores anything.
//
// The input is an image file. The header and metadata checksums are fixed
// up before reading, and the file size recorded to match: otherwise nearly
// every mutation would stop at a checksum, and the fuzzer would never reach
// the code behind it (the checksum checks themselves are unit-tested).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ckpt/restart.h"
#include "crc32c.h"
#include "image_info.h"
#include "image_reader.h"
#include "restore_descriptions.h"

namespace {

using namespace ckpt::image;

void fix_up(std::vector<uint8_t>& file) {
  if (file.size() < sizeof(FileHeader)) return;
  FileHeader h;
  std::memcpy(&h, file.data(), sizeof h);
  h.file_size = file.size();
  if (h.meta_offset <= file.size() && h.meta_size <= file.size() - h.meta_offset)
    h.meta_crc = ckpt::crc32c(0, file.data() + h.meta_offset, h.meta_size);
  h.header_crc = 0;
  h.header_crc = ckpt::crc32c(0, &h, sizeof h);
  std::memcpy(file.data(), &h, sizeof h);
}

// The reader takes a path: the input goes into an anonymous file, opened
// through /proc, which costs no disk.
int image_fd() {
  static const int fd = memfd_create("fuzz.ckpt", MFD_CLOEXEC);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  fix_up(file);
  const int fd = image_fd();
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, file.data(), file.size(), 0) != static_cast<ssize_t>(file.size()))
    __builtin_trap();

  std::string error;
  auto img = ImageReader::open("/proc/self/fd/" + std::to_string(fd), error);
  if (!img) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  img->verify_data(error);
  json_text(image_json(*img));
  image_summary(*img);
  try {
    ckpt::highest_saved_fd({ckpt::read_process_fds(*img)});
  } catch (const ckpt::RestartError&) {
    // The refusal ckpt_restart reports.
  }
  return 0;
}
