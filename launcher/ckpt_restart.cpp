// ckpt_restart IMAGE: brings a checkpointed process back.
//
// 1. Validate the image completely (header, metadata, every checksum) before
//    anything is changed: a bad image is refused with a one-line reason.
// 2. Make sure a coordinator listens.
// 3. Plan the new address space: find a hole no saved region uses, stage the
//    saved bytes there (decompressed, in parallel) or, for uncompressed
//    images, map them straight from the file later.
// 4. Fork the process-to-be (with its original pid when the kernel lets us),
//    and in it jump to the freestanding restorer, which swaps the address
//    space and resumes the threads. This process stays behind as its parent,
//    forwards signals, and exits with its exit status.
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <cinttypes>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <netdb.h>
#include <arpa/inet.h>
#include <string>
#include <thread>
#include <vector>

#include "coordinator_start.h"
#include "image_reader.h"
#include "proc_maps.h"
#include "restart_options.h"
#include "restore_args.h"

extern "C" const char ckpt_restorer_blob[];
extern "C" const char ckpt_restorer_blob_end[];

namespace ckpt {
namespace {

using image::ImageReader;
using image::Region;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kThreadStack = 16 * 1024;
constexpr uint64_t kMainStack = 256 * 1024;
constexpr uint64_t kParking = 64 * kPage;  // room for moving [vdso]/[vvar] (restorer.c)
constexpr uint64_t kLowestAddress = 1ull << 32;
constexpr uint64_t kHighestAddress = 0x7ff000000000ull;

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "ckpt_restart: " << msg << std::endl;
  std::exit(1);
}

struct Range {
  uint64_t start, end;
};

// The lowest-risk free range of `size` bytes: free both now and in the saved
// layout, searched from the top of the usual mmap area down.
uint64_t find_hole(std::vector<Range> used, uint64_t size) {
  std::sort(used.begin(), used.end(), [](const Range& a, const Range& b) { return a.start < b.start; });
  std::vector<Range> merged;
  for (const Range& r : used) {
    if (!merged.empty() && r.start <= merged.back().end) merged.back().end = std::max(merged.back().end, r.end);
    else merged.push_back(r);
  }
  uint64_t top = kHighestAddress;
  const uint64_t guard = 1ull << 20;
  for (auto it = merged.rbegin();; ++it) {
    uint64_t below = it == merged.rend() ? kLowestAddress : it->end;
    if (below < top && top - below >= size + 2 * guard) return (top - guard - size) & ~((1ull << 21) - 1);
    if (it == merged.rend()) return 0;
    top = std::min(top, it->start);
    if (top <= kLowestAddress) return 0;
  }
}

struct Plan {
  std::vector<ckpt_restore_region> regions;
  std::vector<ckpt_restore_thread> threads;
  std::vector<ckpt_special_move> specials;
  std::vector<int32_t> close_fds;
  uint64_t start_brk = 0;
  uint64_t saved_brk = 0;
};

// This process's start_brk: field 47 of /proc/self/stat.
uint64_t own_start_brk() {
  FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
  if (!p) return 0;
  int field = 2;
  uint64_t value = 0;
  for (++p; *p && field < 47; ++p)
    if (*p == ' ') ++field;
  std::sscanf(p, "%" SCNu64, &value);
  return value;
}

// The kernel lets a process move its break anywhere above its start_brk,
// which comes from the executable's layout. When ours lies above the saved
// heap, run again without address randomization: ckpt_restart then sits at
// the bottom of the PIE area, below any randomized application heap.
bool ensure_brk_below(uint64_t heap_start, char** argv) {
  if (own_start_brk() <= heap_start) return true;
  if (!getenv("CKPT_RESTART_NORANDOM")) {
    setenv("CKPT_RESTART_NORANDOM", "1", 1);
    personality(personality(0xffffffff) | ADDR_NO_RANDOMIZE);
    execv("/proc/self/exe", argv);
  }
  // A non-PIE program's heap: the kernel break cannot follow it. brk() then
  // only shrinks-fails; malloc copes by mapping memory instead.
  std::fprintf(stderr, "ckpt_restart: warning: the saved heap at 0x%" PRIx64
               " lies below any program break this process can have; brk() will not grow it\n", heap_start);
  return false;
}

bool is_private_file_mappable(const ImageReader& img, const Region& r) {
  return !img.compressed() && (r.rec.flags & image::kRegionPrivate) && !(r.rec.flags & image::kRegionStack);
}

void plan_specials(const ImageReader& img, const std::vector<MapEntry>& current, Plan& plan) {
  std::vector<const Region*> saved;
  for (const Region& r : img.regions())
    if (r.rec.flags & image::kRegionVdso) saved.push_back(&r);
  size_t current_count = 0;
  for (const MapEntry& m : current) {
    std::string name = m.path;
    if (name != "[vdso]" && name != "[vvar]" && name != "[vvar_vclock]") continue;
    ++current_count;
    auto it = std::find_if(saved.begin(), saved.end(), [&](const Region* r) { return r->path == name; });
    if (it == saved.end())
      die("image " + img.path() + ": this kernel has " + name + " but the image does not (saved on another kernel?)");
    if ((*it)->rec.end - (*it)->rec.start != m.end - m.start)
      die("image " + img.path() + ": " + name + " has a different size on this kernel");
    plan.specials.push_back({m.start, m.end, (*it)->rec.start});
  }
  if (current_count != saved.size())
    die("image " + img.path() + ": the vdso layout differs from this kernel's (saved on another kernel?)");
}

ckpt_restore_thread thread_of(const image::ThreadRecord& t) {
  ckpt_restore_thread out{};
  out.virt_tid = t.virt_tid;
  out.is_leader = (t.flags & image::kThreadLeader) != 0;
  out.rseq_len = t.rseq_len;
  out.fs_base = t.fs_base;
  out.clear_child_tid = t.clear_child_tid;
  out.robust_list = t.robust_list;
  out.robust_list_len = t.robust_list_len;
  out.rseq_addr = t.rseq_addr;
  out.rseq_sig = t.rseq_sig;
  out.sigmask = t.sigmask;
  static_assert(sizeof out.ctx == sizeof t.ctx);
  std::memcpy(&out.ctx, &t.ctx, sizeof out.ctx);
  return out;
}

// Reads every staged region into place, on every core.
void stage_regions(const ImageReader& img, const std::vector<std::pair<const Region*, uint64_t>>& jobs) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::string first_error;
  std::mutex error_lock;
  auto worker = [&]() {
    for (size_t i; !failed && (i = next++) < jobs.size();) {
      std::string err;
      if (!img.read_region(*jobs[i].first, reinterpret_cast<void*>(jobs[i].second), err)) {
        std::lock_guard<std::mutex> g(error_lock);
        if (!failed.exchange(true)) first_error = err;
      }
    }
  };
  unsigned n = std::max(1u, std::min(std::thread::hardware_concurrency(), static_cast<unsigned>(jobs.size())));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < n; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failed) die(first_error);
}

std::string numeric_host(const std::string& host) {
  if (host == "localhost") return "127.0.0.1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) die("cannot resolve coordinator host " + host);
  char buf[INET6_ADDRSTRLEN] = {};
  if (res->ai_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, buf, sizeof buf);
  freeaddrinfo(res);
  return buf;
}

pid_t g_child = -1;

// Signals sent to ckpt_restart by other processes go on to the restored
// process. Terminal-generated ones (si_code > 0) already reach it through
// the process group.
void forward_signal(int sig, siginfo_t* info, void*) {
  if (g_child > 0 && info->si_code <= 0) kill(g_child, sig);
}

[[noreturn]] void wait_and_exit(pid_t child) {
  g_child = child;
  struct sigaction sa {};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT})
    sigaction(sig, &sa, nullptr);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
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

// Fork, with the original pid when the kernel allows (root or
// CAP_CHECKPOINT_RESTORE and the pid is free); otherwise a plain fork.
pid_t fork_restored_process(pid_t wanted, bool try_original, bool& got_original) {
  got_original = false;
  if (try_original) {
    pid_t tid = wanted;
    clone_args ca{};
    ca.exit_signal = SIGCHLD;
    ca.set_tid = reinterpret_cast<uint64_t>(&tid);
    ca.set_tid_size = 1;
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid >= 0) {
      got_original = true;
      return static_cast<pid_t>(pid);
    }
  }
  return static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
}

// The last steps in the new process: raw system calls only, then the jump.
[[noreturn]] void enter_restorer(uint64_t entry, ckpt_restore_args* args, uint64_t stack_top,
                                 const std::vector<int32_t>& keep_fds, const char* cwd,
                                 unsigned long personality_flags) {
  // Leave only stdin/stdout/stderr and the descriptors the restorer maps from.
  int32_t low = 3;
  std::vector<int32_t> keep = keep_fds;
  std::sort(keep.begin(), keep.end());
  for (int32_t fd : keep) {
    if (fd > low) syscall(SYS_close_range, low, fd - 1, 0);
    low = fd + 1;
  }
  syscall(SYS_close_range, low, ~0u, 0);
  if (cwd[0]) syscall(SYS_chdir, cwd);
  // Randomization is the restored program's business again (for its execs).
  syscall(SYS_personality, personality_flags);
  sigset_t all;
  sigfillset(&all);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, 8);
  // This process's own rseq area is about to be unmapped; the kernel would
  // kill us writing to it. The restored threads register theirs.
  if (__rseq_size > 0)
    syscall(SYS_rseq, static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset,
            __rseq_size < 32 ? 32 : __rseq_size, RSEQ_FLAG_UNREGISTER, 0x53053053);
  __asm__ volatile(
      "movq %0, %%rsp\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "movq %1, %%rdi\n\t"
      "callq *%2\n\t"
      "ud2\n\t"
      :
      : "r"(stack_top), "r"(args), "r"(entry)
      : "memory");
  __builtin_unreachable();
}

// Where the saved heap begins: the [heap] region, or the break itself if the
// program never grew it.
uint64_t saved_heap_start(const ImageReader& img) {
  for (const Region& r : img.regions())
    if (r.rec.flags & image::kRegionHeap) return r.rec.start;
  return img.process().brk;
}

int restart(const RestartOptions& opt, char** argv) {
  if (opt.images.size() != 1)
    die("restarting " + std::to_string(opt.images.size()) +
        " processes at once needs process-tree support; give one image");
  std::string error;
  auto img = ImageReader::open(opt.images[0], error);
  if (!img) die(error);
  if (opt.verify && !img->verify_data(error)) die(error);
  if (opt.info) {
    std::cout << (opt.json ? image::image_to_json(*img) : image::image_summary(*img)) << std::endl;
    return 0;
  }
  const image::ProcessRecord& proc = img->process();
  bool brk_movable = !proc.brk || ensure_brk_below(saved_heap_start(*img), argv);
  struct stat st;
  if (proc.cwd[0] && stat(proc.cwd, &st) != 0)
    die("image " + img->path() + ": saved working directory " + proc.cwd + " is gone: " + std::strerror(errno));

  CoordinatorRequest req;
  req.host = opt.coord_host;
  req.port = opt.coord_port;
  req.mode = opt.join ? CoordinatorMode::Join : opt.new_coordinator ? CoordinatorMode::New : CoordinatorMode::Auto;
  req.wait_until_listening = true;
  if (!ensure_coordinator(req, error)) die(error);

  // ---- plan ----
  std::vector<MapEntry> current(65536);
  long n = read_proc_maps(0, current.data(), current.size());
  if (n < 0) die("cannot read /proc/self/maps");
  current.resize(n);

  Plan plan;
  plan_specials(*img, current, plan);
  std::vector<Range> used;
  for (const MapEntry& m : current) used.push_back({m.start, m.end});
  plan.start_brk = own_start_brk();
  plan.saved_brk = brk_movable ? proc.brk : 0;
  for (const Region& r : img->regions()) used.push_back({r.rec.start, r.rec.end});

  uint64_t staged = 0;
  for (const Region& r : img->regions())
    if (!(r.rec.flags & (image::kRegionNoData | image::kRegionVdso)) && !is_private_file_mappable(*img, r))
      staged += r.rec.end - r.rec.start;
  size_t thread_count = img->threads().size();
  size_t region_count = img->regions().size();
  uint64_t blob_size = page_up(ckpt_restorer_blob_end - ckpt_restorer_blob);
  uint64_t args_size = page_up(sizeof(ckpt_restore_args) + region_count * sizeof(ckpt_restore_region) +
                               thread_count * sizeof(ckpt_restore_thread) + 8 * sizeof(ckpt_special_move) +
                               (region_count + 8) * sizeof(int32_t) + 64);
  uint64_t hole_size = blob_size + args_size + thread_count * kThreadStack + kMainStack + kParking;
  uint64_t base = find_hole(used, hole_size + staged);
  if (!base) die("no free address range for the restorer next to the saved layout");
  void* reserved = mmap(reinterpret_cast<void*>(base), hole_size + staged, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (reserved == MAP_FAILED) die(std::string("cannot reserve the restore area: ") + std::strerror(errno));
  uint64_t hole = base, hole_end = base + hole_size;
  if (mprotect(reinterpret_cast<void*>(hole), hole_size, PROT_READ | PROT_WRITE) != 0)
    die(std::string("cannot prepare the restore area: ") + std::strerror(errno));

  std::vector<std::pair<const Region*, uint64_t>> jobs;
  uint64_t stage_at = hole_end;
  int image_fd = img->fd();
  bool image_fd_used = false;
  for (const Region& r : img->regions()) {
    if (r.rec.flags & image::kRegionVdso) continue;
    ckpt_restore_region out{};
    out.start = r.rec.start;
    out.end = r.rec.end;
    out.prot = r.rec.prot;
    out.map_flags = (r.rec.flags & image::kRegionShared) ? MAP_SHARED : MAP_PRIVATE;
    uint64_t len = r.rec.end - r.rec.start;
    if (r.rec.flags & image::kRegionNoData) {
      if ((r.rec.flags & image::kRegionFile) && (r.rec.flags & image::kRegionShared)) {
        int fd = open(r.path.c_str(), ((r.rec.prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (fd < 0)
          die("image " + img->path() + ": cannot open mapped file " + r.path + ": " + std::strerror(errno));
        out.source = CKPT_SRC_FILE;
        out.fd = fd;
        out.file_offset = r.rec.file_offset;
        plan.close_fds.push_back(fd);
      } else {
        out.source = CKPT_SRC_ANON;
      }
    } else if (is_private_file_mappable(*img, r)) {
      // Lazy restore: pages come from the image file when first touched.
      out.source = CKPT_SRC_FILE;
      out.fd = image_fd;
      out.file_offset = r.rec.data_offset;
      image_fd_used = true;
    } else {
      int flags = (r.rec.flags & image::kRegionShared) ? MAP_SHARED : MAP_PRIVATE;
      if (mmap(reinterpret_cast<void*>(stage_at), len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS | MAP_FIXED, -1,
               0) == MAP_FAILED)
        die(std::string("cannot map staging memory: ") + std::strerror(errno));
      out.source = (r.rec.flags & image::kRegionStack) ? CKPT_SRC_STACK : CKPT_SRC_STAGED;
      out.src_addr = stage_at;
      jobs.emplace_back(&r, stage_at);
      stage_at += len;
    }
    plan.regions.push_back(out);
  }
  if (image_fd_used) plan.close_fds.push_back(image_fd);
  stage_regions(*img, jobs);

  // ---- the hole: blob | args and arrays | thread stacks | main stack | parking ----
  char* blob = reinterpret_cast<char*>(hole);
  std::memcpy(blob, ckpt_restorer_blob, ckpt_restorer_blob_end - ckpt_restorer_blob);
  char* cursor = blob + blob_size;
  auto* args = reinterpret_cast<ckpt_restore_args*>(cursor);
  cursor += sizeof(ckpt_restore_args);
  auto place = [&](auto* out, const auto& vec) {
    using T = std::remove_pointer_t<decltype(out)>;
    cursor = reinterpret_cast<char*>((reinterpret_cast<uint64_t>(cursor) + 15) & ~15ull);
    T* dst = reinterpret_cast<T*>(cursor);
    std::memcpy(dst, vec.data(), vec.size() * sizeof(T));
    cursor += vec.size() * sizeof(T);
    return dst;
  };
  uint64_t stacks = hole + blob_size + args_size;
  for (size_t i = 0; i < thread_count; ++i) {
    plan.threads.push_back(thread_of(img->threads()[i]));
    plan.threads.back().stack_top = stacks + (i + 1) * kThreadStack;
  }
  std::memset(args, 0, sizeof *args);
  args->hole_start = hole;
  args->hole_end = hole_end;
  args->restart_info_slot = proc.restart_info_slot;
  args->start_brk = plan.start_brk;
  args->saved_brk = plan.saved_brk;
  args->region_count = plan.regions.size();
  args->thread_count = plan.threads.size();
  args->special_count = plan.specials.size();
  args->close_fd_count = plan.close_fds.size();
  args->use_set_tid = opt.restore_pids;
  args->regions = place(static_cast<ckpt_restore_region*>(nullptr), plan.regions);
  args->threads = place(static_cast<ckpt_restore_thread*>(nullptr), plan.threads);
  args->specials = place(static_cast<ckpt_special_move*>(nullptr), plan.specials);
  args->close_fds = place(static_cast<int32_t*>(nullptr), plan.close_fds);
  args->info.hole_start = hole;
  args->info.hole_end = hole_end;
  args->info.thread_count = static_cast<int32_t>(plan.threads.size());
  args->info.threads = args->threads;
  args->info.coord_port = req.port;
  std::snprintf(args->info.coord_host, sizeof args->info.coord_host, "%s", numeric_host(req.host).c_str());
  if (!opt.ckptdir.empty()) {
    char abs[PATH_MAX];
    if (!realpath(opt.ckptdir.c_str(), abs)) die("--ckptdir " + opt.ckptdir + ": " + std::strerror(errno));
    std::snprintf(args->info.ckptdir, sizeof args->info.ckptdir, "%s", abs);
  }
  uint64_t main_stack_top = stacks + thread_count * kThreadStack + kMainStack - 64;
  if (mprotect(blob, blob_size, PROT_READ | PROT_EXEC) != 0)
    die(std::string("cannot make the restorer executable: ") + std::strerror(errno));

  std::vector<int32_t> keep = plan.close_fds;
  std::string cwd = proc.cwd;
  std::cout.flush();
  std::cerr.flush();

  // Undo our own ADDR_NO_RANDOMIZE (ensure_brk_below) for the restored process.
  unsigned long personality_before_us = personality(0xffffffff);
  if (getenv("CKPT_RESTART_NORANDOM")) personality_before_us &= ~static_cast<unsigned long>(ADDR_NO_RANDOMIZE);
  bool original_pid = false;
  pid_t child = fork_restored_process(proc.virt_pid, opt.restore_pids, original_pid);
  if (child < 0) die(std::string("cannot fork: ") + std::strerror(errno));
  if (child == 0) {
    args->info.pids_restored = original_pid;
    enter_restorer(hole, args, main_stack_top, keep, cwd.c_str(), personality_before_us);
  }
  // The child has its own copy of the staged bytes; ours can go.
  munmap(reserved, hole_size + staged);
  wait_and_exit(child);
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) {
  using namespace ckpt;
  RestartParse parsed = parse_restart_options(argc, argv, [](const char* name) { return getenv(name); });
  if (parsed.action == RestartParse::Help) {
    std::cout << restart_usage();
    return 0;
  }
  if (parsed.action == RestartParse::Error) {
    std::cerr << parsed.error << std::endl;
    return 2;
  }
  return restart(parsed.options, argv);
}
