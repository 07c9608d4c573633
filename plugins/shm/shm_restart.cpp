// The shm kind's restart side (ckpt/restart.h): named POSIX shared memory
// (files in /dev/shm: shm_open, sem_open). The images hold their bytes, each
// process that mapped one a copy of its own. Each file is written back once,
// with those bytes, and every process maps it again (the renamed path makes
// the restorer map it from the file), so the memory is shared as it was.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ckpt/restart.h"

namespace ckpt {
namespace {

using image::ImageReader;
using image::Region;

std::string errno_text() { return std::strerror(errno); }

// Returns the files that did not exist and were created: they are removed
// once every process has mapped them (the image cannot tell a vanished name
// from one the program had unlinked, such as sem_open's temporary file).
// Only files in /dev/shm are written (or where the user's --relocate sends
// them): the verified images' paths have no '..' component
// (image_verify.h), and a name there that is a symbolic link (anyone may
// make one) is refused rather than followed.
std::vector<std::string> recreate_files(const std::vector<const ImageReader*>& images, PathRewriter& paths) {
  static constexpr char kShm[] = "/dev/shm/";
  std::vector<std::string> done, created;
  for (const ImageReader* img : images)
    for (const Region& r : img->regions()) {
      bool named_shm = (r.rec.flags & image::kRegionShared) && (r.rec.flags & image::kRegionFile) &&
                       !(r.rec.flags & image::kRegionNoData) && r.path.rfind(kShm, 0) == 0;
      if (!named_shm || paths.renamed(r.path) || std::find(done.begin(), done.end(), r.path) != done.end()) continue;
      std::string path = paths.apply(r.path);
      int fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT &&
          (fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0)
        created.push_back(path);
      if (fd < 0) throw RestartError("cannot recreate shared memory " + path + ": " + errno_text());
      // Every mapped part of this file, from the first image that has it.
      std::vector<uint64_t> written;  // file offsets
      for (const ImageReader* from : images)
        for (const Region& part : from->regions()) {
          if (part.path != r.path || (part.rec.flags & image::kRegionNoData) ||
              std::find(written.begin(), written.end(), part.rec.file_offset) != written.end())
            continue;
          written.push_back(part.rec.file_offset);
          std::vector<char> bytes(part.rec.end - part.rec.start);
          std::string error;
          if (!from->read_region(part, bytes.data(), error)) {
            close(fd);
            throw RestartError(error);
          }
          if (pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(part.rec.file_offset)) !=
              static_cast<ssize_t>(bytes.size())) {
            close(fd);
            throw RestartError("cannot write shared memory " + path + ": " + errno_text());
          }
        }
      close(fd);
      done.push_back(r.path);
    }
  for (const std::string& old : done) paths.add_exact(old, paths.apply(old));
  return created;
}

class ShmRestart : public RestartKind {
 public:
  const char* name() const override { return "shm"; }

  void create(RestartContext& ctx) override {
    std::vector<const ImageReader*> images;
    for (const RestartProcess& p : ctx.processes) images.push_back(p.image);
    created_ = recreate_files(images, ctx.paths);
  }
  void finish(RestartContext&) override { remove_created(); }
  void abort(RestartContext&) override { remove_created(); }

 private:
  void remove_created() {
    for (const std::string& p : created_) unlink(p.c_str());
    created_.clear();
  }
  std::vector<std::string> created_;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::ShmRestart)
