// The pid kind's restart side (ckpt/restart.h): each image's place in the
// tree from its "pid" section, and a fresh shared pid table for the restarted
// computation, which every process maps where its image had the old one.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ckpt/restart.h"
#include "pid_table.h"
#include "tree_sections.h"

namespace ckpt {
namespace {

// The image's "pid" section, checked; without one, the ProcessRecord's pids.
SavedIds read_ids(const image::ImageReader& img) {
  SavedIds ids;
  ids.vpid = img.process().virt_pid;
  ids.vppid = img.process().virt_ppid;
  for (const image::Section& s : img.sections()) {
    if (s.name != image::kPidSection || s.data.empty()) continue;
    image::PidSection p;
    auto bad = [&](const std::string& why) { throw RestartError("image " + img.path() + ": section pid " + why); };
    if (s.data.size() != sizeof p)
      bad("has " + std::to_string(s.data.size()) + " bytes, expected " + std::to_string(sizeof p) +
          " (written by another version?)");
    std::memcpy(&p, s.data.data(), sizeof p);
    if (p.version != image::kPidSectionVersion)
      bad("has version " + std::to_string(p.version) + ", this ckpt_restart reads version " +
          std::to_string(image::kPidSectionVersion));
    if (p.zombie_count > image::kMaxZombies) bad("counts " + std::to_string(p.zombie_count) + " zombies");
    ids.vpid = p.vpid;
    ids.vppid = p.vppid;
    ids.vpgid = p.vpgid;
    ids.vsid = p.vsid;
    p.pidtable_path[sizeof p.pidtable_path - 1] = '\0';
    ids.pidtable_path = p.pidtable_path;
    for (uint32_t z = 0; z < p.zombie_count; ++z)
      ids.zombies.push_back({p.zombies[z].vpid, p.zombies[z].wait_status, p.zombies[z].vpgid});
  }
  return ids;
}

class PidRestart : public RestartKind {
 public:
  const char* name() const override { return "pid"; }
  int rank() const override { return 10; }  // the tree needs its ids first

  void check(RestartContext& ctx) override {
    for (RestartProcess& p : ctx.processes) p.ids = read_ids(*p.image);
  }

  // Next to the old table if that directory takes it (usually /dev/shm),
  // else in $TMPDIR or /tmp.
  void create(RestartContext& ctx) override {
    std::vector<std::string> old_paths;
    for (const RestartProcess& p : ctx.processes)
      if (!p.ids.pidtable_path.empty() &&
          std::find(old_paths.begin(), old_paths.end(), p.ids.pidtable_path) == old_paths.end())
        old_paths.push_back(p.ids.pidtable_path);
    if (old_paths.empty()) return;
    std::string old_dir = old_paths[0].substr(0, old_paths[0].rfind('/'));
    std::vector<std::string> dirs = {old_dir.empty() ? "/" : old_dir, "/dev/shm"};
    if (const char* t = getenv("TMPDIR"); t && *t) dirs.push_back(t);
    dirs.push_back("/tmp");
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    long rc = -ENOENT;
    for (const std::string& dir : dirs) {
      char path[4200];
      pid_table_name(path, sizeof path, dir.c_str(), static_cast<unsigned>(getuid()), static_cast<int>(getpid()),
                     now.tv_sec, now.tv_nsec);
      if ((rc = PidTable::create(path, table_)) == 0) {
        path_ = path;
        // A computation killed with SIGKILL (or ended by another signal)
        // left its table; the old one, its processes gone, is among them.
        sweep_dead_tables(dir.c_str(), path);
        if (old_dir != dir) sweep_dead_tables(old_dir.c_str(), path);
        for (const std::string& old : old_paths) ctx.paths.add_exact(old, path_);
        return;
      }
    }
    throw RestartError("cannot create a pid table file (tried " + dirs[0] + ", /dev/shm, $TMPDIR, /tmp): " +
                       std::strerror(static_cast<int>(-rc)));
  }

  void created(const RestartContext&, int32_t vpid, int32_t vppid, bool zombie, pid_t real_pid) override {
    if (!path_.empty() && !table_.insert(vpid, real_pid, vppid, zombie ? kPidZombie : 0))
      throw RestartError("the pid table " + path_ + " is full");
  }

  // The processes map the file now: it stays, ours goes.
  void finish(RestartContext&) override { table_.close(); }

  // No process will ever use it.
  void abort(RestartContext&) override {
    table_.close();
    if (!path_.empty()) unlink(path_.c_str());
  }

 private:
  PidTable table_;
  std::string path_;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::PidRestart)
