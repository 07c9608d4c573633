// ckpt_restart IMAGE...: brings a checkpointed computation back, as the tree
// of processes it was.
//
// A driver over the resource kinds (ckpt/restart.h), which do the rest:
// 1. Validate every image completely (header, metadata, every checksum, and
//    what image_verify.h checks: paths, addresses, ownership, one complete
//    checkpoint), become the user the images record, and run every kind's
//    check: whatever can be verified before anything runs is; a problem is
//    one line naming its cause (then --run-on-fail's command runs).
//    --verify stops here.
// 2. Every kind creates its shared objects once, here (file descriptions,
//    pipes, the pid table, shared memory); make sure a coordinator listens.
// 3. Fork the tree (tree_fork.h): each process is forked by its restored
//    parent; each stages its own memory and enters the freestanding
//    restorer (process_restore.h), which swaps the address space and
//    resumes the threads. This process stays behind as the parent of the
//    root (and of orphans), forwards signals to the root, and exits with
//    the root's exit status.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "coordinator_start.h"
#include "image_info.h"
#include "image_reader.h"
#include "image_verify.h"
#include "lazy_pages.h"
#include "ckpt/proc_dir.h"
#include "ckpt/restart.h"
#include "process_restore.h"
#include "restart_hosts.h"
#include "restart_options.h"
#include "restart_tree.h"
#include "tree_fork.h"

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

// What the checkpoint saved only as placeholders (the user accepted the
// loss): the restart says so, once per thing.
void warn_about_placeholders(const RestartProcess& p) {
  const ImageReader& img = *p.image;
  for (const image::Section& s : img.sections()) {
    if (s.name != image::kWarningsSection) continue;
    std::string text(s.data.begin(), s.data.end());
    for (size_t at = 0; at < text.size();) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      if (end > at)
        std::fprintf(stderr, "ckpt_restart: warning: %s: %s\n", p.describe().c_str(),
                     text.substr(at, end - at).c_str());
      at = end + 1;
    }
  }
  for (const image::Region& r : img.regions())
    if (r.rec.flags & image::kRegionLost)
      std::fprintf(stderr, "ckpt_restart: warning: %s: memory 0x%" PRIx64 "-0x%" PRIx64
                   " (shared with %s) was not saved: it is zero-filled\n",
                   p.describe().c_str(), r.rec.start, r.rec.end, r.path.c_str());
}

// The files its shared mappings come from, and those its private file
// mappings' unwritten pages come from (the memory the core restores).
void check_mapped_files(const RestartProcess& p, const PathRewriter& paths) {
  for (const MappedFile& f : mapped_files(*p.image, paths)) {
    int fd = open(f.path.c_str(), (f.writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) throw RestartError("cannot reopen " + f.path + " for " + p.describe() + ": " + std::strerror(errno));
    close(fd);
  }
  check_backing_files(*p.image, paths);
}

// Root restarting another user's computation (or root's with another group)
// runs it with the ids its images record (verify_image_set made them one)
// and the groups the system gives that user. From here on every check, every
// file opened, every object made and every process forked has that user's
// rights, not root's: a crafted image gets no more than its user has.
void become_image_user(const image::ProcessRecord& p, const image::RestartHost& host) {
  if (p.uid == host.uid && p.gid == host.gid) return;
  // Anyone else may only be themselves (verify_image).
  if (host.uid != 0) return;
  gid_t gid = p.gid;
  const passwd* user = getpwuid(p.uid);
  bool ok = (user ? initgroups(user->pw_name, gid) : setgroups(1, &gid)) == 0 && setgid(gid) == 0 &&
            setuid(p.uid) == 0;
  if (!ok || getuid() != p.uid || geteuid() != p.uid)
    throw RestartError("cannot run as uid " + std::to_string(p.uid) + " and gid " + std::to_string(p.gid) +
                       ", the ids the images record: " + std::strerror(errno));
}

// What every restored process is told or given: where the coordinator is,
// where later checkpoints go, how its address space is restored.
RestoreSettings restore_settings(const RestartOptions& opt, const CoordinatorRequest& coordinator,
                                 const PathRewriter& paths, int fd_floor) {
  RestoreSettings settings;
  settings.restore_pids = opt.restore_pids;
  settings.coord_host = numeric_host(coordinator.host);
  settings.coord_port = coordinator.port;
  settings.secret = coordinator.secret;
  settings.secret_file = coordinator.secret_path;
  settings.host_name = this_host_name(opt);
  settings.paths = &paths;
  settings.fd_floor = fd_floor;
  if (!opt.ckptdir.empty()) {
    char abs[PATH_MAX];
    if (!realpath(opt.ckptdir.c_str(), abs)) throw RestartError("--ckptdir " + opt.ckptdir + ": " + std::strerror(errno));
    settings.ckptdir = abs;
  }
  if (!opt.tmpdir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt.tmpdir, ec);
    char abs[PATH_MAX];
    if (ec || !realpath(opt.tmpdir.c_str(), abs))
      throw RestartError("--tmpdir " + opt.tmpdir + ": " + (ec ? ec.message() : std::strerror(errno)));
    settings.tmpdir = abs;
  }
  if (!opt.env_file.empty()) {
    // Checked here, where the restart can still fail with a reason; the
    // restored processes read it themselves.
    char abs[PATH_MAX];
    if (!realpath(opt.env_file.c_str(), abs) || ::access(abs, R_OK) != 0)
      throw RestartError("--env-file " + opt.env_file + ": " + std::strerror(errno));
    settings.env_file = abs;
  }
  settings.modify_env = opt.modify_env;
  if (opt.path_map) {
    if (opt.path_map->size() >= sizeof(ckpt_restart_handoff::path_map))
      throw RestartError("--path-map: " + std::to_string(opt.path_map->size()) + " bytes, more than the " +
                         std::to_string(sizeof(ckpt_restart_handoff::path_map) - 1) + " a restart hands over");
    settings.path_map = opt.path_map;
  }
  // Undo our own ADDR_NO_RANDOMIZE (ensure_brk_below_heaps) for the restored processes.
  settings.personality = personality(0xffffffff);
  if (getenv("CKPT_RESTART_NORANDOM")) settings.personality &= ~static_cast<unsigned long>(ADDR_NO_RANDOMIZE);
  return settings;
}

// The descriptors above 2 that this process inherited (read first thing): a
// pipe to outside the computation (a jobserver's, a batch system's) is bound
// to the one of the same number.
std::vector<int> inherited_descriptors() {
  std::vector<int> out;
  for_each_numbered_entry("/proc/self/fd", [&](long fd, int dir) {
    if (fd > 2 && fd != dir) out.push_back(static_cast<int>(fd));
    return true;
  });
  return out;
}

// Third-party restart kinds: each library registers its kinds from its
// static initialisers (CKPT_RESTART_KIND), against this executable's
// exported registry.
void load_restart_plugins(const std::vector<std::string>& libraries) {
  for (const std::string& lib : libraries)
    if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL))
      throw RestartError("cannot load restart plugin " + lib + ": " + dlerror());
}

// Runs every kind's abort() if the restart fails before any process runs.
struct KindsGuard {
  RestartContext& ctx;
  bool done = false;
  ~KindsGuard() {
    if (done) return;
    for (auto it = restart_kinds().rbegin(); it != restart_kinds().rend(); ++it) (*it)->abort(ctx);
  }
};

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

// --info: the images as ckpt_info prints them (one JSON array, or summaries).
void print_info(const std::vector<const ImageReader*>& images, bool json) {
  if (json) {
    image::Json all = image::Json::array();
    for (const ImageReader* img : images) all.push_back(image::image_json(*img));
    std::cout << image::json_text(all) << std::flush;
    return;
  }
  for (size_t i = 0; i < images.size(); i++) std::cout << (i ? "\n" : "") << image::image_summary(*images[i]);
  std::cout << std::flush;
}

CoordinatorRequest coordinator_request(const RestartOptions& opt) {
  CoordinatorRequest req;
  req.host = opt.coord_host;
  req.port = opt.coord_port;
  req.mode = opt.join ? CoordinatorMode::Join : opt.new_coordinator ? CoordinatorMode::New : CoordinatorMode::Auto;
  req.wait_until_listening = true;
  req.secret_file = opt.secret_file;
  req.keep = opt.keep;
  return req;
}

void ensure(CoordinatorRequest& req) {
  std::string error;
  switch (ensure_coordinator(req, error)) {
    case CoordinatorCheck::Ready: break;
    case CoordinatorCheck::NoneListening: throw RestartError(error, cli::kExitNoCoordinator);
    case CoordinatorCheck::Failed: throw RestartError(error);
    case CoordinatorCheck::Foreign: throw RestartError(error, cli::kExitUsage);
  }
}

// A computation on several hosts (restart_hosts.h): each host's images are
// restarted by a ckpt_restart of their own, on their host or where the map
// sends them. Images readable here are checked here first, as one set when
// all are.
int restart_on_hosts(const RestartOptions& given) {
  // Paths as the other hosts see them: absolute (a remote shell starts in
  // the home directory).
  RestartOptions opt = given;
  auto absolute = [](std::string& path) {
    path = std::filesystem::absolute(path).lexically_normal().string();
    if (path.size() > 1 && path.back() == '/') path.pop_back();
  };
  for (std::string& path : opt.images) absolute(path);
  if (!opt.ckptdir.empty()) absolute(opt.ckptdir);
  std::vector<std::string> ran_on = opt.image_hosts;
  std::vector<std::unique_ptr<ImageReader>> images;
  std::vector<const ImageReader*> image_list;
  std::string error;
  const image::RestartHost host = image::RestartHost::current();
  for (size_t i = 0; i < opt.images.size(); ++i) {
    if (!ran_on[i].empty() && ::access(opt.images[i].c_str(), R_OK) != 0) continue;  // on its host only
    auto img = ImageReader::open(opt.images[i], error);
    if (!img || !image::verify_image(*img, host, error)) throw RestartError(error);
    if (ran_on[i].empty()) ran_on[i] = img->process().hostname;
    image_list.push_back(img.get());
    images.push_back(std::move(img));
  }
  if (image_list.size() == opt.images.size() && !image::verify_image_set(image_list, error)) throw RestartError(error);
  const std::vector<HostShare> shares = plan_host_shares(opt, ran_on);
  const std::string here = this_host_name(opt);

  CoordinatorRequest req = coordinator_request(opt);
  // A coordinator started here must be reachable from the other hosts.
  if (std::any_of(shares.begin(), shares.end(), [&](const HostShare& s) { return s.to != here; })) req.listen = "0.0.0.0";
  if (!opt.verify_only) ensure(req);
  // --verify starts nothing: the secret's file is named, not made.
  else if ((req.secret_path = cli::secret_file_path(req.secret_file, req.port, error)).empty())
    throw RestartError("secret file: " + error);
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) throw RestartError(std::string("cannot find ckpt_restart itself: ") + std::strerror(errno));
  const ShareJoin join{std::string(self, static_cast<size_t>(n)), opt.coord_host, req.port, req.secret_path};
  std::vector<std::vector<std::string>> commands;
  for (const HostShare& share : shares) commands.push_back(share_command(share, opt, join, here));
  if (opt.verify_only) {
    std::cout << "ckpt_restart: " << opt.images.size() << " image(s) on " << shares.size()
              << " host(s): " << image_list.size() << " checked here; the restart would run:\n";
    for (const auto& cmd : commands) {
      for (size_t i = 0; i < cmd.size(); ++i) std::cout << (i ? " " : "  ") << cmd[i];
      std::cout << "\n";
    }
    std::cout << std::flush;
    return 0;
  }
  images.clear();
  return run_host_shares(shares, commands, join, req.secret);
}

int restart(const RestartOptions& opt, char** argv, const std::vector<int>& inherited) {
  timespec started{};
  clock_gettime(CLOCK_MONOTONIC, &started);
  if (!opt.host_share && !opt.info && restart_spans_hosts(opt)) return restart_on_hosts(opt);
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
    print_info(image_list, opt.json);
    return 0;
  }
  const image::RestartHost host = image::RestartHost::current();
  for (const ImageReader* img : image_list)
    if (!image::verify_image(*img, host, error)) throw RestartError(error);
  if (!image::verify_image_set(image_list, error, opt.host_share)) throw RestartError(error);
  // Before any real work: this may run ckpt_restart again.
  ensure_brk_below_heaps(image_list, argv);
  become_image_user(image_list[0]->process(), host);
  // Lazy restart, unless --no-lazy, where userfaultfd allows it (as the
  // images' user): each chunk is checked when it is loaded, before any of
  // its pages is used, and what is not loaded lazily is checked as it is
  // read before the processes run. An eager restart checks every chunk
  // first.
  bool lazy = false;
  std::string no_lazy_why;  // said once the restart goes ahead
  if (opt.lazy && !opt.verify_only) lazy = lazy_pages_available(no_lazy_why);
  if ((opt.check_data && !lazy) || opt.verify_only)
    for (const ImageReader* img : image_list)
      if (!img->verify_data(error)) throw RestartError(error);

  // ---- check: everything that can be verified before anything is made ----
  load_restart_plugins(opt.plugins);
  RestartContext ctx;
  ctx.inherited_fds = inherited;
  for (const auto& [from, to] : opt.relocations) ctx.paths.add_prefix(from, to);
  ctx.path_map = opt.path_map;
  for (const ImageReader* img : image_list) ctx.processes.push_back({img, {}});
  for (RestartKind* kind : restart_kinds()) kind->check(ctx);
  std::vector<SavedIds> ids;
  for (const RestartProcess& p : ctx.processes) ids.push_back(p.ids);
  RestartTree tree;
  if (!build_restart_tree(ids, tree, error)) throw RestartError("the images do not form one computation: " + error);
  for (const RestartProcess& p : ctx.processes) check_mapped_files(p, ctx.paths);
  if (opt.verify_only) {
    const image::ProcessRecord& p = image_list[0]->process();
    std::cout << "ckpt_restart: " << image_list.size() << " image(s) of checkpoint " << p.generation
              << " verified: the restart would start, as uid " << p.uid << "\n"
              << std::flush;
    return 0;
  }
  for (const RestartProcess& p : ctx.processes) warn_about_placeholders(p);

  // ---- create: shared kernel objects, once ----
  KindsGuard guard{ctx};
  for (RestartKind* kind : restart_kinds()) kind->create(ctx);

  CoordinatorRequest req = coordinator_request(opt);
  ensure(req);

  RestoreSettings settings = restore_settings(opt, req, ctx.paths, ctx.fd_floor);
  settings.started_ns = started.tv_sec * 1'000'000'000LL + started.tv_nsec;
  settings.lazy = lazy;
  // Said only when asked for (CKPT_LOG=info or debug): ckpt_restart's stderr
  // is often the restored processes' terminal, and an unprivileged restart
  // on a default system is eager every time; the coordinator's restart
  // figures say which it was in any case.
  const char* level = std::getenv("CKPT_LOG");
  const bool informative = level && (std::strcmp(level, "info") == 0 || std::strcmp(level, "debug") == 0);
  if (!no_lazy_why.empty() && informative)
    std::fprintf(stderr, "ckpt_restart: lazy restart unavailable (%s): memory is loaded before the processes run\n",
                 no_lazy_why.c_str());

  // ---- the tree: fork, install per process, enter the restorers ----
  // Our SIGCHLD disposition is inherited: an ignored one would let the
  // kernel reap restored zombies before their parents can wait for them.
  signal(SIGCHLD, SIG_DFL);
  TreeForkPlan plan;
  plan.tree = &tree;
  plan.try_original_pids = opt.restore_pids;
  plan.describe = [&](int m) {
    const TreeMember& member = tree.members[m];
    if (member.zombie()) return "zombie " + std::to_string(member.vpid);
    return ctx.processes[member.image].describe();
  };
  plan.created = [&](int m, pid_t real_pid) {
    const TreeMember& member = tree.members[m];
    for (RestartKind* kind : restart_kinds()) kind->created(ctx, member.vpid, member.vppid, member.zombie(), real_pid);
  };
  plan.session_made = [&](int m) {
    for (RestartKind* kind : restart_kinds()) kind->session(ctx, tree.members[m].vpid);
  };
  plan.prepare = [&](int m, ProcessRestore& restore) {
    int image = tree.members[m].image;
    // What ps and /proc/PID/comm show (the kernel keeps 15 bytes).
    prctl(PR_SET_NAME, image_list[image]->process().progname);
    restore.prepare(*image_list[image], settings, ctx, static_cast<size_t>(image));
    for (RestartKind* kind : restart_kinds()) kind->install(ctx, static_cast<size_t>(image), restore.kept_fds());
  };
  plan.groups_ready = [&](const std::vector<pid_t>& real_pids) {
    std::vector<pid_t> by_process(ctx.processes.size());
    for (size_t m = 0; m < tree.members.size(); ++m)
      if (!tree.members[m].zombie()) by_process[tree.members[m].image] = real_pids[m];
    for (RestartKind* kind : restart_kinds()) kind->ready(ctx, by_process, static_cast<size_t>(tree.members[tree.root].image));
  };
  std::vector<pid_t> pids = fork_tree(plan);
  guard.done = true;
  for (RestartKind* kind : restart_kinds()) kind->finish(ctx);
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
  const std::vector<int> inherited = inherited_descriptors();
  RestartParse parsed = parse_restart_options(argc, argv, cli::process_environment());
  switch (parsed.action) {
    case cli::Outcome::Help: std::cout << restart_usage(); return cli::kExitOk;
    case cli::Outcome::Version: std::cout << cli::version_line("ckpt_restart") << std::endl; return cli::kExitOk;
    case cli::Outcome::Error: std::cerr << parsed.error << std::endl; return cli::kExitUsage;
    case cli::Outcome::Run: break;
  }
  try {
    return restart(parsed.options, argv, inherited);
  } catch (const RestartError& e) {
    std::cerr << cli::error_line("ckpt_restart", e.what()) << std::endl;
    run_on_fail(parsed.options.run_on_fail, e.what());
    return e.exit_status;
  }
}
