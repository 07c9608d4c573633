#include "stopped_workers.h"

#include "ckpt/environment.h"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ckpt::coord {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The state letter of /proc/PID/stat (after the command's ')'), or 0.
char process_state(pid_t pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : 0;
}

bool holds_socket(pid_t pid, unsigned long inode) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  const std::string want = "socket:[" + std::to_string(inode) + "]";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[64];
    const ssize_t n = ::readlinkat(::dirfd(d), e->d_name, target, sizeof target - 1);
    if (n > 0 && want.compare(0, std::string::npos, target, static_cast<size_t>(n)) == 0) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

// The checkpoint thread of `pid`, by its name, or 0.
pid_t checkpoint_thread_of(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  pid_t found = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (slurp(dir + "/" + e->d_name + "/comm") == CKPT_CHECKPOINT_THREAD_NAME "\n") {
      found = static_cast<pid_t>(std::atoi(e->d_name));
      break;
    }
  }
  ::closedir(d);
  return found;
}

}  // namespace

WakeResult continue_stopped_worker(pid_t real_pid, unsigned long socket_inode, std::string& error) {
  if (real_pid <= 0) return WakeResult::NotOurs;
  const char state = process_state(real_pid);
  if (state == 0) return WakeResult::NotOurs;
  if (state != 'T') return WakeResult::Running;
  if (!holds_socket(real_pid, socket_inode)) return WakeResult::NotOurs;
  const pid_t tid = checkpoint_thread_of(real_pid);
  if (tid == 0) return WakeResult::NoThread;
  if (::syscall(SYS_tgkill, real_pid, tid, SIGCONT) != 0) {
    error = std::strerror(errno);
    return WakeResult::Failed;
  }
  return WakeResult::Woken;
}

}  // namespace ckpt::coord
