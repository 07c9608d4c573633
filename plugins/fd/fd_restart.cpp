// The fd kind's restart side (ckpt/restart.h), over DescriptionSet
// (restore_descriptions.h): every description is created once in
// ckpt_restart, each process puts its own at their numbers, and the terminal
// goes to the root's process group.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ckpt/restart.h"
#include "restore_descriptions.h"

namespace ckpt {
namespace {

// Descriptors above every saved number carry the descriptions to the
// processes: make room for them.
int transport_floor(int highest_saved) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur != RLIM_INFINITY && static_cast<rlim_t>(highest_saved) + 64 > lim.rlim_cur)
    throw RestartError("a process had descriptor " + std::to_string(highest_saved) +
                       ", more than this user's descriptor limit (" + std::to_string(lim.rlim_cur) + ") leaves room for");
  return highest_saved + 1;
}

class FdRestart : public RestartKind {
 public:
  const char* name() const override { return "fd"; }
  // Last: install() closes every descriptor the process does not keep.
  int rank() const override { return 90; }

  void check(RestartContext& ctx) override {
    for (const RestartProcess& p : ctx.processes) {
      fds_.push_back(read_process_fds(*p.image));
      std::string cwd = ctx.paths.apply(fds_.back().cwd);
      struct stat st;
      errno = 0;
      if (!cwd.empty() && (stat(cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
        throw RestartError("cannot reopen working directory " + cwd + " for " + p.describe() + ": " +
                           (errno ? std::strerror(errno) : "not a directory"));
    }
    ctx.fd_floor = transport_floor(highest_saved_fd(fds_));
  }

  // Every description, once: the last check that files can be reopened.
  void create(RestartContext& ctx) override {
    std::vector<const image::ImageReader*> images;
    std::vector<int32_t> vpids;
    for (const RestartProcess& p : ctx.processes) {
      images.push_back(p.image);
      vpids.push_back(p.ids.vpid);
    }
    descriptions_.create(images, fds_, vpids, ctx.paths, ctx.fd_floor, ctx.inherited_fds);
  }

  void install(const RestartContext& ctx, size_t process, const std::vector<int32_t>& keep) override {
    descriptions_.install(fds_[process], ctx.paths, keep);
  }

  // A shell gives its foreground job the terminal: that was ckpt_restart. If
  // the root leads a process group of its own (as a shell job does), that
  // group becomes the foreground one instead, so that it can read the
  // terminal and Ctrl-C reaches it as before.
  void ready(const RestartContext&, const std::vector<pid_t>& real_pids, size_t root) override {
    pid_t group = getpgid(real_pids[root]);
    for (int fd = 0; fd < 3; ++fd) {
      if (!isatty(fd)) continue;
      if (tcgetpgrp(fd) == getpgrp() && group > 0 && group != getpgrp()) tcsetpgrp(fd, group);
      return;
    }
  }

  // ckpt_restart's own copies, once every child has inherited them.
  void finish(RestartContext&) override { descriptions_.close_all(); }
  void abort(RestartContext&) override { descriptions_.close_all(); }

 private:
  std::vector<ProcessFds> fds_;
  DescriptionSet descriptions_;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::FdRestart)
