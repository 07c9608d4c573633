// The mqueue kind's restart side (ckpt/restart.h), rank 70 (before the fd
// kind, which keeps the descriptors we put in place):
//
// create   each queue once, from the image of the process that led it: by
//          its name with its maxmsg, msgsize, mode and (as root) owner, or,
//          if it had been unlinked, under a temporary name removed at once;
//          then its messages, in their order. A queue of that name that
//          exists already (the killed computation's, which nobody unlinked)
//          is taken over if it has the same attributes and owner, and
//          emptied, as the shm kind writes over a /dev/shm file; one with
//          other attributes or another owner fails the restart. Then one
//          open file description per saved description (access mode,
//          O_NONBLOCK), at a transport number.
// install  each process dup2s its descriptors to their numbers.
//
// The mq_notify registrations are made again by the restored processes
// themselves (CKPT_EVENT_RESTART, mqueue_save.cpp): the kernel gives a
// registration to the process that asks. By then the messages are back, so
// a registration does not fire for them.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "ckpt/restart.h"
#include "mqueue_image.h"

namespace ckpt {
namespace {

using mqueue::Message;
using mqueue::MqDescriptor;
using mqueue::MqQueue;
using mqueue::MqSectionData;

std::string errno_text() { return std::strerror(errno); }

class MqueueRestart : public RestartKind {
 public:
  const char* name() const override { return "mqueue"; }
  int rank() const override { return 70; }

  void check(RestartContext& ctx) override {
    sections_.clear();
    vpids_.clear();
    queues_.clear();
    for (const RestartProcess& p : ctx.processes) {
      sections_.emplace_back();
      vpids_.push_back(p.image->process().virt_pid);
      for (const image::Section& s : p.image->sections()) {
        if (s.name != mqueue::kMqueueSection) continue;
        std::string why = mqueue::read_mqueue_section(s.data, sections_.back());
        if (!why.empty()) throw RestartError("image " + p.image->path() + ": section mqueue: " + why);
      }
    }
    for (size_t p = 0; p < sections_.size(); ++p)
      for (size_t i = 0; i < sections_[p].queues.size(); ++i) {
        const MqQueue& q = sections_[p].queues[i];
        if (static_cast<int32_t>(q.queue_id >> 32) != vpids_[p])
          throw RestartError("image " + ctx.processes[p].image->path() + ": section mqueue: queue " + q.name +
                             " is led by process " + std::to_string(static_cast<int32_t>(q.queue_id >> 32)));
        queues_[q.queue_id] = {p, i};
      }
    for (size_t p = 0; p < sections_.size(); ++p)
      for (const MqDescriptor& d : sections_[p].descriptors)
        if (!queues_.count(d.queue_id))
          throw RestartError("fd " + std::to_string(d.fd) + " (a POSIX message queue) of " +
                             ctx.processes[p].describe() + " holds a queue whose process " +
                             std::to_string(static_cast<int32_t>(d.queue_id >> 32)) +
                             " saved it, and no image given is that process's");
  }

  void create(RestartContext& ctx) override {
    for (auto& [id, where] : queues_) made_queues_[id] = make_queue(ctx, where.first, where.second);
    for (size_t p = 0; p < sections_.size(); ++p)
      for (const MqDescriptor& d : sections_[p].descriptors) {
        if (made_descriptions_.count(d.desc_id)) continue;
        const int queue = made_queues_.at(d.queue_id);
        const int flags = (d.status_flags & (O_ACCMODE | O_NONBLOCK)) | O_CLOEXEC;
        int fd = open(("/proc/self/fd/" + std::to_string(queue)).c_str(), flags);
        if (fd < 0)
          throw RestartError("cannot open POSIX message queue fd " + std::to_string(d.fd) + " of " +
                             ctx.processes[p].describe() + " again: " + errno_text());
        made_descriptions_[d.desc_id] = lifted(ctx, fd, "fd " + std::to_string(d.fd));
      }
  }

  void install(const RestartContext&, size_t process, const std::vector<int32_t>&) override {
    if (process >= sections_.size()) return;
    for (const MqDescriptor& d : sections_[process].descriptors) {
      if (dup2(made_descriptions_.at(d.desc_id), d.fd) < 0)
        throw RestartError("cannot put POSIX message queue descriptor " + std::to_string(d.fd) + " in place: " +
                           errno_text());
      fcntl(d.fd, F_SETFD, d.fd_flags & FD_CLOEXEC);
    }
  }

  void finish(RestartContext&) override {
    close_all();
    created_.clear();
    made_names_.clear();
  }
  void abort(RestartContext&) override {
    close_all();
    for (const std::string& name : created_) mq_unlink(name.c_str());
    created_.clear();
    made_names_.clear();
  }

 private:
  void close_all() {
    for (auto& [id, fd] : made_queues_) close(fd);
    for (auto& [id, fd] : made_descriptions_) close(fd);
    made_queues_.clear();
    made_descriptions_.clear();
  }

  // Moves a new descriptor above every saved number.
  int lifted(const RestartContext& ctx, int fd, const std::string& what) {
    int high = fcntl(fd, F_DUPFD_CLOEXEC, ctx.fd_floor);
    int err = errno;
    close(fd);
    if (high < 0) throw RestartError("POSIX message queue " + what + ": no descriptor number free: " + std::strerror(err));
    return high;
  }

  int make_queue(const RestartContext& ctx, size_t p, size_t index) {
    const MqQueue& q = sections_[p].queues[index];
    const std::string what = "POSIX message queue " + std::string(q.name) + " (of " + ctx.processes[p].describe() + ")";
    mq_attr attr{};
    attr.mq_maxmsg = q.maxmsg;
    attr.mq_msgsize = q.msgsize;
    const int flags = O_RDWR | O_NONBLOCK | O_CLOEXEC;
    std::string name = q.name;
    if (q.unlinked) name = "/ckpt-restart-" + std::to_string(getpid()) + "-" + std::to_string(temporary_++);
    mqd_t fd = mq_open(name.c_str(), flags | O_CREAT | O_EXCL, q.mode, &attr);
    if (fd >= 0 && !q.unlinked) created_.push_back(name);
    if (fd < 0 && errno == EEXIST && !q.unlinked) {
      if (std::find(made_names_.begin(), made_names_.end(), name) != made_names_.end())
        throw RestartError(what + ": another queue of this name, from another host's images, is restarted here too");
      fd = take_over(q, what);
    }
    if (fd < 0) {
      const bool limits = errno == EINVAL || errno == EMFILE || errno == ENOMEM;
      throw RestartError("cannot create " + what + " with maxmsg " + std::to_string(q.maxmsg) + " and msgsize " +
                         std::to_string(q.msgsize) + ": " + errno_text() +
                         (limits ? " (see /proc/sys/fs/mqueue and RLIMIT_MSGQUEUE)" : ""));
    }
    fd = lifted(ctx, fd, q.name);
    made_names_.push_back(name);
    if (q.unlinked) mq_unlink(name.c_str());
    fchmod(fd, q.mode);  // mq_open's mode went through the umask
    if (geteuid() == 0) fchown(fd, q.uid, q.gid);
    for (const Message& m : sections_[p].messages[index])
      if (mq_send(fd, reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size(), m.priority) != 0)
        throw RestartError("cannot put the messages of " + what + " back: " + errno_text());
    return fd;
  }

  // The queue of that name left by the killed computation: the same
  // attributes and owner, emptied. Anything else is not ours to touch.
  mqd_t take_over(const MqQueue& q, const std::string& what) {
    mqd_t fd = mq_open(q.name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw RestartError(what + " exists and cannot be opened: " + errno_text());
    mq_attr now{};
    struct stat st {};
    mq_getattr(fd, &now);
    fstat(fd, &st);
    if (now.mq_maxmsg != q.maxmsg || now.mq_msgsize != q.msgsize || st.st_uid != q.uid) {
      close(fd);
      throw RestartError(what + " exists with maxmsg " + std::to_string(now.mq_maxmsg) + ", msgsize " +
                         std::to_string(now.mq_msgsize) + " and owner " + std::to_string(st.st_uid) +
                         " instead of " + std::to_string(q.maxmsg) + ", " + std::to_string(q.msgsize) + " and " +
                         std::to_string(q.uid) + ": it is not this computation's; remove it (mq_unlink) to restart");
    }
    std::vector<char> buf(static_cast<size_t>(q.msgsize));
    while (mq_receive(fd, buf.data(), buf.size(), nullptr) >= 0) {
    }
    return fd;
  }

  std::vector<MqSectionData> sections_;
  std::vector<int32_t> vpids_;
  std::map<uint64_t, std::pair<size_t, size_t>> queues_;  // queue_id -> (process, queue index)
  std::map<uint64_t, int> made_queues_;                   // queue_id -> transport fd
  std::map<uint64_t, int> made_descriptions_;             // desc_id -> transport fd
  std::vector<std::string> created_;                      // named queues created (removed if the restart fails)
  std::vector<std::string> made_names_;                   // every queue name made or taken over by this restart
  int temporary_ = 0;
};

}  // namespace
}  // namespace ckpt

CKPT_RESTART_KIND(ckpt::MqueueRestart)
