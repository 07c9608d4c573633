// One process's address space, prepared inside the process that becomes it
// (GUIDE §3.3): find a hole no saved region uses, put the restorer, its
// arguments and stacks there, stage the saved bytes (or map uncompressed ones
// straight from the image), then jump to the freestanding restorer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "image_reader.h"
#include "ckpt/auth.h"
#include "ckpt/restart_paths.h"
#include "restore_args.h"

struct ckpt_restore_args;

namespace ckpt {

struct RestartContext;

struct RestoreSettings {
  bool restore_pids = true;       // the restorer tries clone3 set_tid for thread ids
  std::string coord_host;         // numeric address the restored process reconnects to
  uint16_t coord_port = 0;
  auth::Secret secret{};          // the coordinator's secret, for the restored process's connection
  std::string ckptdir;            // absolute; empty: as saved
  std::string host_name;          // the host the restored process runs on (its CKPT_HOST_NAME)
  std::string secret_file;        // where the secret lives on this host
  std::string tmpdir;             // absolute; empty: as saved (ckpt_restart --tmpdir)
  std::string env_file;           // absolute; empty: none (ckpt_restart --env-file)
  bool modify_env = false;        // ckpt_restart --modify-env
  std::optional<std::string> path_map;  // ckpt_restart --path-map (CKPT_PATH_MAP text); nullopt: as saved
  unsigned long personality = 0;  // what the restored process runs with
  const PathRewriter* paths = nullptr;
  int fd_floor = 3;               // the restorer's descriptors go at or above this
  int64_t started_ns = 0;         // CLOCK_MONOTONIC when ckpt_restart started: the restart's figures
  bool lazy = false;              // compressed images: private memory is loaded after the process runs (lazy_pages.h)
};

// Shared file mappings are re-mapped from their files: the path each one is
// opened from on restart (after rewriting), for checking before anything runs.
struct MappedFile {
  std::string path;
  bool writable;
};
std::vector<MappedFile> mapped_files(const image::ImageReader& img, const PathRewriter& paths);

// The file a kRegionFileBacked region's unstored pages come from (its path
// after rewriting), opened read-only, once checked to be the file the
// checkpoint saw: the same size and modification time, and, unless
// relocated (a copy), the same device and inode. Throws RestartError naming
// the file otherwise.
int open_backing_file(const image::ImageReader& img, const image::Region& r, const PathRewriter* paths);
// The same check for every such region of an image, before anything is made.
void check_backing_files(const image::ImageReader& img, const PathRewriter& paths);

// Where the saved heap begins: the [heap] region, or the break itself if the
// program never grew it.
uint64_t saved_heap_start(const image::ImageReader& img);

// This process's layout as the kernel records it (/proc/self/stat), and its
// start_brk alone.
ckpt_mm_layout own_mm_layout();
uint64_t own_start_brk();

// Whether prctl(PR_SET_MM_MAP) is there to set a restored process's break
// (it needs no privilege, but a kernel with CONFIG_CHECKPOINT_RESTORE).
bool can_set_mm_layout();

class ProcessRestore {
 public:
  // Plans the new address space and stages the saved bytes. Throws
  // RestartError.
  // `ctx` and `process` (its index in ctx.processes) let the restart kinds
  // supply regions they saved themselves (RestartKind::region_source).
  void prepare(const image::ImageReader& img, const RestoreSettings& settings, const RestartContext& ctx,
               size_t process);
  // Descriptors the restorer maps from and then closes; all >= fd_floor.
  const std::vector<int32_t>& restorer_fds() const { return restorer_fds_; }
  // Descriptors of ours the restored process keeps: the restorer's, and the
  // socket to its lazy page server.
  std::vector<int32_t> kept_fds() const;
  // Raw system calls only from here: the last steps, then the jump.
  [[noreturn]] void enter(bool pids_restored);

 private:
  ckpt_restore_args* args_ = nullptr;
  uint64_t entry_ = 0;
  uint64_t stack_top_ = 0;
  unsigned long personality_ = 0;
  std::vector<int32_t> restorer_fds_;
  int32_t lazy_fd_ = -1;
};

}  // namespace ckpt
