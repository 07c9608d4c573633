// The shm kind's restart side (ckpt/restart.h): shared memory whose bytes
// lived in the kernel (section "shm", shm_section.h). Each object is made
// once (a memfd, or the file again for /dev/shm), filled from the images
// that saved its ranges, sealed as it was, and mapped by every process that
// had it (region_source) at the same address; memfd descriptors come back at
// their numbers, all on one object.
//
// Images without the section (or regions it does not claim) keep the older
// way for /dev/shm files: each file is written back once from the first
// image that has its bytes, and mapped again through its renamed path.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>

#include "ckpt/restart.h"
#include "shm_image.h"

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif

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
                       !(r.rec.flags & (image::kRegionNoData | image::kRegionExternal)) && r.path.rfind(kShm, 0) == 0;
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
          if (part.path != r.path || (part.rec.flags & (image::kRegionNoData | image::kRegionExternal)) ||
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

// One object of the computation, as every image that has it describes it.
struct Object {
  shm::ShmObject rec{};
  int fd = -1;
};

// (boot_id, dev, ino): the same object in every image of the same kernel.
using ObjectKey = std::tuple<std::string, uint64_t, uint64_t>;

std::string hex_range(uint64_t start, uint64_t end) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "0x%llx-0x%llx", static_cast<unsigned long long>(start),
                static_cast<unsigned long long>(end));
  return buf;
}

void write_all(int fd, const void* data, uint64_t len, uint64_t offset, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = pwrite(fd, p, len, static_cast<off_t>(offset));
    if (n <= 0) throw RestartError("cannot write " + what + ": " + (n < 0 ? errno_text() : "short write"));
    p += n;
    len -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

class ShmRestart : public RestartKind {
 public:
  const char* name() const override { return "shm"; }

  void check(RestartContext& ctx) override {
    sections_.assign(ctx.processes.size(), {});
    global_.assign(ctx.processes.size(), {});
    for (size_t p = 0; p < ctx.processes.size(); ++p) {
      const ImageReader& img = *ctx.processes[p].image;
      const image::Section* sec = nullptr;
      for (const image::Section& s : img.sections())
        if (s.name == shm::kShmSection) sec = &s;
      if (!sec) continue;
      shm::ShmSectionData& data = sections_[p];
      std::string why = shm::read_shm_section(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(sec->data.data()), sec->data.size()), data);
      if (!why.empty()) throw RestartError("image " + img.path() + ": section shm " + why);
      const std::string boot(reinterpret_cast<const char*>(data.header.boot_id), sizeof data.header.boot_id);
      for (const shm::ShmObject& o : data.objects) {
        ObjectKey key{boot, o.dev, o.ino};
        auto [it, fresh] = index_.try_emplace(key, objects_.size());
        if (fresh) objects_.push_back({o, -1});
        Object& obj = objects_[it->second];
        obj.rec.size = std::max(obj.rec.size, o.size);
        obj.rec.seals |= o.seals;
        global_[p].push_back(it->second);
      }
      for (const shm::ShmMapping& m : data.mappings) {
        const Region* r = region_at(img, m.start);
        if (!r || r->rec.end != m.end || !(r->rec.flags & image::kRegionExternal) ||
            !(r->rec.flags & image::kRegionShared) || (m.saved && (r->rec.flags & image::kRegionNoData)))
          throw RestartError("image " + img.path() + ": section shm names memory " + hex_range(m.start, m.end) +
                             " that the image does not hold as it says");
        Object& obj = objects_[global_[p][m.object]];
        obj.rec.size = std::max(obj.rec.size, m.offset + (m.end - m.start));
      }
    }
  }

  void create(RestartContext& ctx) override {
    std::vector<const ImageReader*> images;
    for (const RestartProcess& p : ctx.processes) images.push_back(p.image);
    created_ = recreate_files(images, ctx.paths);
    for (Object& obj : objects_) make(ctx, obj);
    for (size_t p = 0; p < sections_.size(); ++p) fill(*ctx.processes[p].image, p);
    for (Object& obj : objects_) seal(obj);
  }

  bool region_source(const RestartContext&, size_t process, const Region& r, uint64_t, RegionSource& out) override {
    if (process >= sections_.size()) return false;
    for (const shm::ShmMapping& m : sections_[process].mappings)
      if (m.start == r.rec.start && m.end == r.rec.end) {
        out.fd = objects_[global_[process][m.object]].fd;
        out.offset = m.offset;
        return true;
      }
    return false;
  }

  // memfd descriptors, at their numbers, on the one object (the descriptor
  // kind, at rank 90, keeps them: they were claimed).
  void install(const RestartContext&, size_t process, const std::vector<int32_t>&) override {
    if (process >= sections_.size()) return;
    for (const shm::ShmFd& f : sections_[process].fds) {
      const Object& obj = objects_[global_[process][f.object]];
      const std::string what = "memfd descriptor " + std::to_string(f.fd);
      if (dup2(obj.fd, f.fd) < 0) throw RestartError("cannot put back " + what + ": " + errno_text());
      if (fcntl(f.fd, F_SETFD, f.fd_flags & FD_CLOEXEC) < 0 ||
          fcntl(f.fd, F_SETFL, f.status_flags & (O_NONBLOCK | O_APPEND | O_NOATIME)) < 0 ||
          (f.position >= 0 && lseek(f.fd, f.position, SEEK_SET) < 0))
        throw RestartError("cannot restore the flags of " + what + ": " + errno_text());
    }
  }

  void finish(RestartContext&) override {
    close_objects();
    remove_created();
  }
  void abort(RestartContext&) override {
    close_objects();
    remove_created();
  }

 private:
  static const Region* region_at(const ImageReader& img, uint64_t start) {
    for (const Region& r : img.regions())
      if (r.rec.start == start) return &r;
    return nullptr;
  }

  void make(RestartContext& ctx, Object& obj) {
    const shm::ShmObject& o = obj.rec;
    std::string what;
    int fd = -1;
    if (o.kind == shm::ShmKind::PosixShm) {
      std::string path = ctx.paths.apply(o.name);
      what = "shared memory " + path;
      fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && (fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0)
        created_.push_back(path);
      if (fd < 0) throw RestartError("cannot recreate " + what + ": " + errno_text());
      if (!ctx.paths.renamed(o.name)) ctx.paths.add_exact(o.name, path);
    } else {
      const char* name = o.kind == shm::ShmKind::Anonymous ? CKPT_ANONYMOUS_SHARED_MEMFD : o.name;
      if (o.kind == shm::ShmKind::Deleted) {
        const char* slash = std::strrchr(o.name, '/');
        name = slash ? slash + 1 : o.name;
      }
      what = std::string("shared memory (") + shm::kind_name(o.kind) + " " + name + ")";
      fd = static_cast<int>(syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
      if (fd < 0) throw RestartError("cannot create " + what + ": " + errno_text());
    }
    if (ftruncate(fd, static_cast<off_t>(o.size)) != 0) {
      close(fd);
      throw RestartError("cannot size " + what + ": " + errno_text());
    }
    // Every process inherits it; below fd_floor lie the restored processes' own descriptors.
    obj.fd = fcntl(fd, F_DUPFD_CLOEXEC, ctx.fd_floor);
    close(fd);
    if (obj.fd < 0) throw RestartError("cannot keep " + what + " open: " + errno_text());
  }

  void fill(const ImageReader& img, size_t p) {
    const shm::ShmSectionData& data = sections_[p];
    std::vector<char> bytes;
    for (const shm::ShmMapping& m : data.mappings) {
      if (!m.saved) continue;
      const Region* r = region_at(img, m.start);
      // Zeros first: the image stores no zero page, and read_region leaves
      // the pages it does not store as they are.
      bytes.assign(m.end - m.start, 0);
      std::string error;
      if (!img.read_region(*r, bytes.data(), error)) throw RestartError(error);
      write_all(objects_[global_[p][m.object]].fd, bytes.data(), bytes.size(), m.offset,
                "shared memory " + hex_range(m.start, m.end) + " of image " + img.path());
    }
    for (const shm::ShmExtent& e : data.extents)
      write_all(objects_[global_[p][e.object]].fd, data.data.data() + e.data_offset, e.length, e.offset,
                "memfd contents of image " + img.path());
  }

  static void seal(const Object& obj) {
    if (obj.rec.seals && fcntl(obj.fd, F_ADD_SEALS, obj.rec.seals) != 0)
      throw RestartError(std::string("cannot seal memfd ") + obj.rec.name + " again: " + errno_text());
  }

  void close_objects() {
    for (Object& obj : objects_)
      if (obj.fd >= 0) close(obj.fd), obj.fd = -1;
  }
  void remove_created() {
    for (const std::string& p : created_) unlink(p.c_str());
    created_.clear();
  }

  std::vector<shm::ShmSectionData> sections_;  // by process; empty if it had none
  std::vector<std::vector<size_t>> global_;    // by process: its section's object index -> objects_
  std::map<ObjectKey, size_t> index_;
  std::vector<Object> objects_;
  std::vector<std::string> created_;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::ShmRestart)
