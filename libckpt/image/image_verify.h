// What a restart checks of its images before it makes anything, shared by
// ckpt_restart (also with --verify) and ckpt_info --verify, so that both
// refuse the same images. ImageReader::open checks that a file is a
// well-formed image; this checks that restarting it here, by this user,
// would do only what the image's own user could do: images are files anyone
// may have crafted or swapped (GUIDE §3.11).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image_reader.h"

namespace ckpt::image {

// Who restarts, and on which kernel.
struct RestartHost {
  uint32_t uid = 0;  // real ids of the restarting process
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // its supplementary groups
  uint64_t mmap_min_addr = 0;    // vm.mmap_min_addr: nothing may be mapped below

  // This process on this kernel.
  static RestartHost current();
};

// One image: its file (owned by the user it records or by root, writable by
// no one else, named after what it records), whether `host` may run its
// process with the ids it records (root may become anyone, anyone else only
// themselves), its threads (distinct ids, one leader), where its memory lies
// (above mmap_min_addr), the paths a restart opens or writes (see
// is_plain_path) and its sections (each decodes through its kind's schema).
// Not the data checksums: ImageReader::verify_data. False with `error` set
// to one line naming the image.
bool verify_image(const ImageReader& img, const RestartHost& host, std::string& error);

// The images together are one complete checkpoint of one computation: the
// same generation, computation size and ids in each, as many images as the
// computation had processes, no process twice. A partial set names what is
// missing, a foreign image what it records. `host_share`: the images are
// one host's share of a computation on several hosts: fewer images than its
// processes are no error (the coordinator waits for the rest). Pids are
// distinct per host: each host had its own.
bool verify_image_set(const std::vector<const ImageReader*>& images, std::string& error, bool host_share = false);

// The file name libckpt gives the image of process `p` (ckpt/image_names.h).
std::string image_file_name(const ProcessRecord& p);

// Whether `path` is absolute with no empty, "." or ".." component: what the
// kernel reports for an open file or mapping, never a way out of the
// directory a name was expected in.
bool is_plain_path(std::string_view path);
// What is_plain_path asks, for messages.
inline constexpr char kPlainPathRule[] = "an absolute path without empty, '.' or '..' components";

}  // namespace ckpt::image
