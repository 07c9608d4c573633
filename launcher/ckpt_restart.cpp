// ckpt_restart IMAGE...: brings a checkpointed computation back, as the tree
// of processes it was.
//
// 1. Validate every image completely (header, metadata, every checksum), and
//    every file the computation will need, before anything runs: a problem
//    is one line naming its cause (then --run-on-fail's command runs).
// 2. Make sure a coordinator listens.
// 3. Create every open file description once, here (restart_fds.h).
// 4. Fork the tree (tree_fork.h): each process is forked by its restored
//    parent; each stages its own memory and enters the freestanding
//    restorer (process_restore.h), which swaps the address space and
//    resumes the threads. This process stays behind as the parent of the
//    root (and of orphans), forwards signals to the root, and exits with
//    the root's exit status.
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "coordinator_start.h"
#include "image_reader.h"
#include "path_rewrite.h"
#include "pid_table.h"
#include "process_restore.h"
#include "restart_error.h"
#include "restart_fds.h"
#include "restart_options.h"
#include "restart_tree.h"
#include "tree_fork.h"
#include "tree_sections.h"

namespace ckpt {
namespace {

using image::ImageReader;

std::string numeric_host(const std::string& host) {
  if (host == "localhost") return "127.0.0.1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res)
    throw RestartError("cannot resolve coordinator host " + host);
  char buf[INET6_ADDRSTRLEN] = {};
  if (res->ai_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, buf, sizeof buf);
  freeaddrinfo(res);
  return buf;
}

// Without prctl(PR_SET_MM_MAP), the kernel lets a process move its break
// only above its start_brk, which comes from the executable's layout. When
// ours lies above a saved heap, run again without address randomization:
// ckpt_restart then sits at the bottom of the PIE area, below any randomized
// application heap. The forked processes inherit this start_brk.
void ensure_brk_below_heaps(const std::vector<const ImageReader*>& images, char** argv) {
  if (can_set_mm_layout()) return;  // the restorer sets the saved break outright
  uint64_t lowest = UINT64_MAX;
  for (const ImageReader* img : images)
    if (img->process().brk) lowest = std::min(lowest, saved_heap_start(*img));
  if (own_start_brk() <= lowest) return;
  if (!getenv("CKPT_RESTART_NORANDOM")) {
    setenv("CKPT_RESTART_NORANDOM", "1", 1);
    personality(personality(0xffffffff) | ADDR_NO_RANDOMIZE);
    execv("/proc/self/exe", argv);
  }
  // A non-PIE program's heap: the kernel break cannot follow it
  // (process_restore.cpp leaves the break alone). brk() then only
  // shrinks-fails; malloc copes by mapping memory instead.
  for (const ImageReader* img : images)
    if (img->process().brk && saved_heap_start(*img) < own_start_brk())
      std::fprintf(stderr, "ckpt_restart: warning: image %s: the saved heap at 0x%" PRIx64
                   " lies below any program break this process can have; brk() will not grow it\n",
                   img->path().c_str(), saved_heap_start(*img));
}

// What the image says about its place in the tree.
SavedIds saved_ids(const ImageReader& img) {
  SavedIds ids;
  const image::ProcessRecord& proc = img.process();
  ids.vpid = proc.virt_pid;
  ids.vppid = proc.virt_ppid;
  for (const image::Section& s : img.sections()) {
    if (s.name != image::kPidSection || s.data.empty()) continue;
    image::PidSection p;
    if (s.data.size() != sizeof p)
      throw RestartError("image " + img.path() + ": section pid has " + std::to_string(s.data.size()) +
                         " bytes, expected " + std::to_string(sizeof p) + " (written by another version?)");
    std::memcpy(&p, s.data.data(), sizeof p);
    if (p.version != image::kPidSectionVersion)
      throw RestartError("image " + img.path() + ": section pid has version " + std::to_string(p.version) +
                         ", this ckpt_restart reads version " + std::to_string(image::kPidSectionVersion));
    if (p.zombie_count > image::kMaxZombies)
      throw RestartError("image " + img.path() + ": section pid counts " + std::to_string(p.zombie_count) + " zombies");
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

std::string describe(const ImageReader& img, int32_t vpid) {
  return "process " + std::to_string(vpid) + " (" + img.process().progname + ")";
}

// Everything a process will open that is not a description: its working
// directory and the files its shared mappings come from.
void check_process_files(const ImageReader& img, const ProcessFds& fds, int32_t vpid, const PathRewriter& paths) {
  std::string cwd = paths.apply(fds.cwd);
  struct stat st;
  errno = 0;
  if (!cwd.empty() && (stat(cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
    throw RestartError("cannot reopen working directory " + cwd + " for " + describe(img, vpid) + ": " +
                       (errno ? std::strerror(errno) : "not a directory"));
  for (const MappedFile& f : mapped_files(img, paths)) {
    int fd = open(f.path.c_str(), (f.writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
      throw RestartError("cannot reopen " + f.path + " for " + describe(img, vpid) + ": " + std::strerror(errno));
    close(fd);
  }
}

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

void check_same_checkpoint(const ImageReader& first, const ImageReader& img) {
  if (img.process().generation != first.process().generation)
    throw RestartError("images " + first.path() + " and " + img.path() + " come from different checkpoints (generations " +
                       std::to_string(first.process().generation) + " and " +
                       std::to_string(img.process().generation) + ")");
}

// What every restored process is told or given: where the coordinator is,
// where later checkpoints go, how its address space is restored.
RestoreSettings restore_settings(const RestartOptions& opt, const CoordinatorRequest& coordinator,
                                 const PathRewriter& paths, int fd_floor) {
  RestoreSettings settings;
  settings.restore_pids = opt.restore_pids;
  settings.coord_host = numeric_host(coordinator.host);
  settings.coord_port = coordinator.port;
  settings.paths = &paths;
  settings.fd_floor = fd_floor;
  if (!opt.ckptdir.empty()) {
    char abs[PATH_MAX];
    if (!realpath(opt.ckptdir.c_str(), abs)) throw RestartError("--ckptdir " + opt.ckptdir + ": " + std::strerror(errno));
    settings.ckptdir = abs;
  }
  // Undo our own ADDR_NO_RANDOMIZE (ensure_brk_below_heaps) for the restored processes.
  settings.personality = personality(0xffffffff);
  if (getenv("CKPT_RESTART_NORANDOM")) settings.personality &= ~static_cast<unsigned long>(ADDR_NO_RANDOMIZE);
  return settings;
}

// A fresh shared pid table for the restarted computation, next to the old
// one if that directory takes it (usually /dev/shm), else in $TMPDIR or /tmp.
// Every process maps it where its image had the old one (an exact path
// rewrite of that MAP_SHARED file region).
std::string create_pid_table(const std::vector<SavedIds>& ids, PathRewriter& paths, PidTable& table) {
  std::vector<std::string> old_paths;
  for (const SavedIds& s : ids)
    if (!s.pidtable_path.empty() && std::find(old_paths.begin(), old_paths.end(), s.pidtable_path) == old_paths.end())
      old_paths.push_back(s.pidtable_path);
  if (old_paths.empty()) return "";
  std::string old_dir = old_paths[0].substr(0, old_paths[0].rfind('/'));
  std::vector<std::string> dirs = {old_dir.empty() ? "/" : old_dir, "/dev/shm"};
  if (const char* t = getenv("TMPDIR"); t && *t) dirs.push_back(t);
  dirs.push_back("/tmp");
  // Named as plugins/pid names the tables it creates (its sweep of dead
  // tables knows them by that).
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  char name[128];
  std::snprintf(name, sizeof name, "ckpt-%u-%d-%lx%09lx.pids", static_cast<unsigned>(getuid()),
                static_cast<int>(getpid()), static_cast<unsigned long>(now.tv_sec),
                static_cast<unsigned long>(now.tv_nsec));
  long rc = -ENOENT;
  for (const std::string& dir : dirs) {
    std::string path = dir + "/" + name;
    if ((rc = PidTable::create(path.c_str(), table)) == 0) {
      for (const std::string& old : old_paths) paths.add_exact(old, path);
      return path;
    }
  }
  throw RestartError(std::string("cannot create a pid table file (tried ") + dirs[0] + ", /dev/shm, $TMPDIR, /tmp): " +
                     std::strerror(static_cast<int>(-rc)));
}

// A shell gives its foreground job the terminal: that was ckpt_restart. If
// the root leads a process group of its own (as a shell job does), that
// group becomes the foreground one instead, so that it can read the
// terminal and Ctrl-C reaches it as before.
void hand_over_terminal(pid_t root) {
  pid_t group = getpgid(root);
  for (int fd = 0; fd < 3; ++fd) {
    if (!isatty(fd)) continue;
    if (tcgetpgrp(fd) == getpgrp() && group > 0 && group != getpgrp()) tcsetpgrp(fd, group);
    return;
  }
}

pid_t g_root = -1;

// Signals sent to ckpt_restart by other processes go on to the root.
// Terminal-generated ones (si_code > 0) already reach it through the
// process group.
void forward_signal(int sig, siginfo_t* info, void*) {
  if (g_root > 0 && info->si_code <= 0) kill(g_root, sig);
}

// Waits for the root, reaping orphans on the way, and exits as it did.
[[noreturn]] void wait_for_root(pid_t root) {
  g_root = root;
  struct sigaction sa {};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT})
    sigaction(sig, &sa, nullptr);
  int status = 0;
  for (;;) {
    pid_t pid = waitpid(-1, &status, 0);
    if (pid == root) break;
    if (pid < 0 && errno != EINTR) std::exit(1);
  }
  if (WIFEXITED(status)) std::exit(WEXITSTATUS(status));
  // Die the same way, so the caller's shell sees the same status.
  int sig = WTERMSIG(status);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  std::exit(128 + sig);
}

int restart(const RestartOptions& opt, char** argv) {
  std::vector<std::unique_ptr<ImageReader>> images;
  std::vector<const ImageReader*> image_list;
  std::string error;
  for (const std::string& path : opt.images) {
    auto img = ImageReader::open(path, error);
    if (!img) throw RestartError(error);
    image_list.push_back(img.get());
    images.push_back(std::move(img));
  }
  if (opt.info) {
    for (const ImageReader* img : image_list)
      std::cout << (opt.json ? image::image_to_json(*img) : image::image_summary(*img)) << std::endl;
    return 0;
  }
  // Before any real work: this may run ckpt_restart again.
  ensure_brk_below_heaps(image_list, argv);
  if (opt.verify)
    for (const ImageReader* img : image_list)
      if (!img->verify_data(error)) throw RestartError(error);

  // ---- the computation: tree, paths, files ----
  std::vector<SavedIds> ids;
  std::vector<int32_t> vpids;
  for (const ImageReader* img : image_list) {
    ids.push_back(saved_ids(*img));
    vpids.push_back(ids.back().vpid);
    check_same_checkpoint(*image_list[0], *img);
  }
  RestartTree tree;
  if (!build_restart_tree(ids, tree, error)) throw RestartError("the images do not form one computation: " + error);

  PathRewriter paths;
  for (const auto& [from, to] : opt.relocations) paths.add_prefix(from, to);
  // The new pid table first: the processes map it instead of the old one.
  PidTable pid_table;
  std::string pid_table_path = create_pid_table(ids, paths, pid_table);
  // Removed again if the restart fails: no process will ever use it.
  struct TableFile {
    const std::string& path;
    bool keep = false;
    ~TableFile() {
      if (!keep && !path.empty()) unlink(path.c_str());
    }
  } table_file{pid_table_path};
  std::vector<ProcessFds> fds;
  for (const ImageReader* img : image_list) fds.push_back(read_process_fds(*img));
  for (size_t i = 0; i < image_list.size(); ++i) check_process_files(*image_list[i], fds[i], vpids[i], paths);
  // Every description, once: the last check that files can be reopened.
  int fd_floor = transport_floor(highest_saved_fd(fds));
  DescriptionSet descriptions;
  descriptions.create(image_list, fds, vpids, paths, fd_floor);
  // Created here only to be mapped: removed once every process maps them, or
  // if the restart fails.
  struct CreatedFiles {
    std::vector<std::string> paths;
    ~CreatedFiles() { remove(); }
    void remove() {
      for (const std::string& p : paths) unlink(p.c_str());
      paths.clear();
    }
  } created_shm{recreate_shared_memory_files(image_list, paths)};

  CoordinatorRequest req;
  req.host = opt.coord_host;
  req.port = opt.coord_port;
  req.mode = opt.join ? CoordinatorMode::Join : opt.new_coordinator ? CoordinatorMode::New : CoordinatorMode::Auto;
  req.wait_until_listening = true;
  switch (ensure_coordinator(req, error)) {
    case CoordinatorCheck::Ready: break;
    case CoordinatorCheck::NoneListening: throw RestartError(error, cli::kExitNoCoordinator);
    case CoordinatorCheck::Failed: throw RestartError(error);
  }

  RestoreSettings settings = restore_settings(opt, req, paths, fd_floor);

  // ---- the tree ----
  // Our SIGCHLD disposition is inherited: an ignored one would let the
  // kernel reap restored zombies before their parents can wait for them.
  signal(SIGCHLD, SIG_DFL);
  TreeForkPlan plan;
  plan.tree = &tree;
  plan.try_original_pids = opt.restore_pids;
  plan.describe = [&](int m) {
    const TreeMember& member = tree.members[m];
    if (member.zombie()) return "zombie " + std::to_string(member.vpid);
    return describe(*image_list[member.image], member.vpid);
  };
  plan.created = [&](int m, pid_t real_pid) {
    const TreeMember& member = tree.members[m];
    if (!pid_table_path.empty() &&
        !pid_table.insert(member.vpid, real_pid, member.vppid, member.zombie() ? kPidZombie : 0))
      throw RestartError("the pid table " + pid_table_path + " is full");
  };
  plan.prepare = [&](int m, ProcessRestore& restore) {
    int image = tree.members[m].image;
    // What ps and /proc/PID/comm show (the kernel keeps 15 bytes).
    prctl(PR_SET_NAME, image_list[image]->process().progname);
    restore.prepare(*image_list[image], settings);
    descriptions.install(fds[image], paths, restore.restorer_fds());
  };
  plan.groups_ready = [&](const std::vector<pid_t>& real_pids) { hand_over_terminal(real_pids[tree.root]); };
  std::vector<pid_t> pids = fork_tree(plan);
  created_shm.remove();
  table_file.keep = true;
  pid_table.close();
  descriptions.close_all();
  images.clear();
  wait_for_root(pids[tree.root]);
}

// --run-on-fail: BLCR's hook, run before ckpt_restart exits.
void run_on_fail(const std::string& command, const std::string& reason) {
  if (command.empty()) return;
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setenv("CKPT_RESTART_ERROR", reason.c_str(), 1);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid > 0)
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) {
  using namespace ckpt;
  RestartParse parsed = parse_restart_options(argc, argv, cli::process_environment());
  switch (parsed.action) {
    case cli::Outcome::Help: std::cout << restart_usage(); return cli::kExitOk;
    case cli::Outcome::Version: std::cout << cli::version_line("ckpt_restart") << std::endl; return cli::kExitOk;
    case cli::Outcome::Error: std::cerr << parsed.error << std::endl; return cli::kExitUsage;
    case cli::Outcome::Run: break;
  }
  try {
    return restart(parsed.options, argv);
  } catch (const RestartError& e) {
    std::cerr << cli::error_line("ckpt_restart", e.what()) << std::endl;
    run_on_fail(parsed.options.run_on_fail, e.what());
    return e.exit_status;
  }
}
