// The restart side of the plugin API (C++, for ckpt_restart): each resource
// kind's restore code, beside its save code in plugins/<kind>/, is a
// RestartKind that ckpt_restart drives through the same phases:
//
//   check    in ckpt_restart, before anything is created or any process runs:
//            read and verify the kind's sections, check what must exist (a
//            file to reopen, a working directory); throw RestartError.
//   create   in ckpt_restart: kernel objects shared between processes, made
//            once (file descriptions, pipes, the pid table, shared memory).
//   created  in each new process (live or zombie), right after it exists.
//   session  in each restored process that leads its session, right after its
//            setsid and before it forks the members of that session: what
//            they must inherit at fork (a controlling terminal).
//   install  in each restored process, before its address space is replaced:
//            its descriptors at their numbers, cwd, umask, rlimits. The fd
//            kind installs last (rank 90) and closes every descriptor except
//            the ones it put in place and those its images mark Elsewhere
//            (claimed with ckpt_claim_fd): a kind that restores claimed
//            descriptors dup2s them to their numbers here, at a lower rank.
//   ready    in ckpt_restart, once every process is in its process group and
//            before any runs (e.g. hand the terminal over).
//   finish   in ckpt_restart, once every process entered its restorer: drop
//            what ckpt_restart itself held.
//   abort    in ckpt_restart, when the restart failed before anything ran:
//            undo what create made outside (files).
//
// Then the restored process itself gets CKPT_EVENT_RESTART (plugin.h).
// A kind registers with CKPT_RESTART_KIND(Type) in an object that is linked
// into ckpt_restart; kinds run in rank order (lower first).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ckpt/restart_paths.h"
#include "image_reader.h"

namespace ckpt {

// The one way restart code reports a problem: a one-line reason, caught
// where the restart can still be abandoned cleanly (before any process runs).
struct RestartError : std::runtime_error {
  explicit RestartError(const std::string& what, int exit_status = 1)
      : std::runtime_error(what), exit_status(exit_status) {}
  int exit_status;  // ckpt_restart's (1: the restart failed; see ckpt_restart --help)
};

// What one image says about its place in the tree (the pid kind's check fills
// it from section "pid"; without one: the ProcessRecord's pids).
struct SavedIds {
  int32_t vpid = 0;
  int32_t vppid = 0;
  int32_t vpgid = 0;  // 0: unknown, inherit
  int32_t vsid = 0;   // 0: unknown, inherit
  struct Zombie {
    int32_t vpid;
    int32_t wait_status;
    int32_t vpgid;
  };
  std::vector<Zombie> zombies;
  std::string pidtable_path;  // the shared pid table the process mapped; empty: none
};

struct RestartProcess {
  const image::ImageReader* image = nullptr;
  SavedIds ids;
  // "process 4242 (prog)", for messages.
  std::string describe() const;
};

// Everything a restart knows, passed to every phase (no globals).
struct RestartContext {
  std::vector<RestartProcess> processes;  // one per image, in the order given
  PathRewriter paths;                     // --relocate, and files a kind renamed
  int fd_floor = 3;                       // descriptors that carry objects to processes go at or above this
  std::vector<int> inherited_fds;         // ckpt_restart's own above 2, as it started
  // ckpt_restart --path-map (or DMTCP_PATH_MAPPING): the path map the
  // restored processes run with from now on, as CKPT_PATH_MAP text; unset:
  // each keeps the map it had (plugins/path).
  std::optional<std::string> path_map;

  // The first image's section `name`, or null.
  const image::Section* find_section(const std::string& name) const;
};

// Where a region a plugin saved itself (kRegionExternal) comes from, as
// RestartKind::region_source says.
struct RegionSource {
  int fd = -1;          // the restorer maps this descriptor (MAP_SHARED) at the region, from `offset`;
  uint64_t offset = 0;  //   the descriptor stays the kind's (the restore keeps its own copy)
  bool staged = false;  // or: the kind mapped the object at `stage_at` itself (e.g. shmat with
                        //   SHM_REMAP), and the restorer moves that mapping into place
};

class RestartKind {
 public:
  virtual ~RestartKind() = default;
  virtual const char* name() const = 0;
  virtual int rank() const { return 50; }
  virtual void check(RestartContext&) {}
  virtual void create(RestartContext&) {}
  virtual void created(const RestartContext&, int32_t /*vpid*/, int32_t /*vppid*/, bool /*zombie*/,
                       pid_t /*real_pid*/) {}
  virtual void session(const RestartContext&, int32_t /*vpid*/) {}
  // `keep`: descriptors the restorer still needs (at or above fd_floor).
  virtual void install(const RestartContext&, size_t /*process*/, const std::vector<int32_t>& /*keep*/) {}
  // In each restored process, while its address space is planned (before
  // install): the source of a region flagged kRegionExternal (or any shared
  // region the kind owns). `stage_at` is a reserved range of the region's
  // size the kind may map over (MAP_FIXED, SHM_REMAP). Return false if the
  // region is not the kind's; the first kind that returns true supplies it.
  virtual bool region_source(const RestartContext&, size_t /*process*/, const image::Region&, uint64_t /*stage_at*/,
                             RegionSource&) {
    return false;
  }
  // real_pids[i] is process i's new kernel pid; `root` the index of the root.
  virtual void ready(const RestartContext&, const std::vector<pid_t>& /*real_pids*/, size_t /*root*/) {}
  virtual void finish(RestartContext&) {}
  virtual void abort(RestartContext&) {}
};

// Registered kinds, by rank.
void register_restart_kind(RestartKind* kind);
const std::vector<RestartKind*>& restart_kinds();

}  // namespace ckpt

#define CKPT_RESTART_KIND(Type)                                                   \
  namespace {                                                                     \
  Type ckpt_restart_kind_instance;                                                \
  [[maybe_unused]] const bool ckpt_restart_kind_registered =                      \
      (::ckpt::register_restart_kind(&ckpt_restart_kind_instance), true);         \
  }
