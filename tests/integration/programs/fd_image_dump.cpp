// fd_image_dump IMAGE fds            the "fds" section, one line per descriptor
// fd_image_dump IMAGE section NAME   the raw bytes of section NAME (exit 1 if absent)
//
// For the fd tests: decodes what plugins/fd saved (tree_sections.h) so a
// shell script can check it with grep and cmp.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "image_reader.h"
#include "tree_sections.h"

namespace {

using namespace ckpt::image;

const char* kind_name(FdKind k) {
  switch (k) {
    case FdKind::File: return "file";
    case FdKind::Directory: return "directory";
    case FdKind::Deleted: return "deleted";
    case FdKind::Pipe: return "pipe";
    case FdKind::Fifo: return "fifo";
    case FdKind::Device: return "device";
    case FdKind::Tty: return "tty";
    case FdKind::Stdio: return "stdio";
    case FdKind::Elsewhere: return "elsewhere";
    case FdKind::Lost: return "lost";
    case FdKind::Inherited: return "inherited";
  }
  return "?";
}

const char* policy_name(FilePolicy p) {
  switch (p) {
    case FilePolicy::Merge: return "merge";
    case FilePolicy::Ignore: return "ignore";
    case FilePolicy::Append: return "append";
    case FilePolicy::Replace: return "replace";
    case FilePolicy::Substitute: return "substitute";
  }
  return "?";
}

const Section* find(const ImageReader& img, const std::string& name) {
  for (const Section& s : img.sections())
    if (s.name == name) return &s;
  return nullptr;
}

int dump_fds(const ImageReader& img) {
  const Section* s = find(img, kFdSection);
  if (!s) return fprintf(stderr, "fd_image_dump: no section \"fds\"\n"), 1;
  FdSectionHeader h;
  if (s->data.size() < sizeof h) return fprintf(stderr, "fd_image_dump: \"fds\" too short\n"), 1;
  memcpy(&h, s->data.data(), sizeof h);
  if (h.version != kFdSectionVersion || s->data.size() != sizeof h + h.count * sizeof(FdRecord))
    return fprintf(stderr, "fd_image_dump: \"fds\": version %u, %zu bytes for %u records\n", h.version,
                   s->data.size(), h.count),
           1;
  printf("cwd %s\numask %03o\nnofile %" PRIu64 " %" PRIu64 "\ncount %u\n", h.cwd, h.umask, h.rlimits[7].cur,
         h.rlimits[7].max, h.count);
  for (uint32_t i = 0; i < h.count; ++i) {
    FdRecord r;
    memcpy(&r, s->data.data() + sizeof h + i * sizeof r, sizeof r);
    printf("fd %d kind %s desc %u:%u fdflags %u flags %o offset %" PRId64 " size %" PRIu64
           " policy %s stdio %u pipe_size %u contents %u drained %u ino %" PRIu64 " path %s\n",
           r.fd, kind_name(r.kind), static_cast<unsigned>(r.desc_id >> 32), static_cast<unsigned>(r.desc_id),
           r.fd_flags, r.status_flags, r.offset, r.size, policy_name(r.policy), r.stdio_index, r.pipe_size,
           r.has_contents, r.has_drained, r.ino, r.path);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return fprintf(stderr, "usage: fd_image_dump IMAGE fds | IMAGE section NAME\n"), 2;
  std::string error;
  auto img = ImageReader::open(argv[1], error);
  if (!img) return fprintf(stderr, "fd_image_dump: %s\n", error.c_str()), 1;
  if (!strcmp(argv[2], "fds")) return dump_fds(*img);
  if (!strcmp(argv[2], "section") && argc == 4) {
    const Section* s = find(*img, argv[3]);
    if (!s) return fprintf(stderr, "fd_image_dump: no section \"%s\"\n", argv[3]), 1;
    fwrite(s->data.data(), 1, s->data.size(), stdout);
    return 0;
  }
  return fprintf(stderr, "usage: fd_image_dump IMAGE fds | IMAGE section NAME\n"), 2;
}
