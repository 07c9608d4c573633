// Start-up of libckpt in each process: read the configuration ckpt_launch
// left in the environment, install the suspend handler, tell plugins, and
// start the checkpoint thread.
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/protocol.h"
#include "ckpt/raw_syscall.h"
#include "core.h"
#include "exec_env.h"
#include "log.h"
#include "ckpt/environment.h"

namespace ckpt {

Config g_config;

pid_t raw_getpid() { return static_cast<pid_t>(sys(SYS_getpid)); }
pid_t raw_gettid() { return static_cast<pid_t>(sys(SYS_gettid)); }

namespace {

using sigaction_fn = int (*)(int, const struct sigaction*, struct sigaction*);
sigaction_fn g_real_sigaction = nullptr;

unsigned long env_number(const char* name, unsigned long fallback) {
  const char* v = getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  unsigned long n = strtoul(v, &end, 10);
  return end && *end == '\0' ? n : fallback;
}

void read_config() {
  const char* host = getenv(CKPT_ENV_COORD_HOST);
  format_to(g_config.coord_host, sizeof g_config.coord_host, "%s", host && *host ? host : "localhost");
  g_config.coord_port = static_cast<uint16_t>(env_number(CKPT_ENV_COORD_PORT, proto::kDefaultPort));
  const char* dir = getenv(CKPT_ENV_DIR);
  if (dir && *dir) format_to(g_config.ckptdir, sizeof g_config.ckptdir, "%s", dir);
  else if (!getcwd(g_config.ckptdir, sizeof g_config.ckptdir)) format_to(g_config.ckptdir, sizeof g_config.ckptdir, ".");
  g_config.interval = static_cast<unsigned>(env_number(CKPT_ENV_INTERVAL, 0));
  g_config.compress = env_number(CKPT_ENV_COMPRESS, 1) != 0;
  unsigned long threads = env_number(CKPT_ENV_COMPRESS_THREADS, 0);
  g_config.fsync = env_number(CKPT_ENV_FSYNC, 1) != 0;
  g_config.compress_threads = static_cast<int>(threads < CKPT_MAX_COMPRESS_THREADS ? threads : CKPT_MAX_COMPRESS_THREADS);
  g_config.accept_loss = env_number(CKPT_ENV_ACCEPT_LOSS, 0) != 0;
  g_config.incremental = env_number(CKPT_ENV_INCREMENTAL, 1) != 0;
  g_config.full_every = static_cast<unsigned>(env_number(CKPT_ENV_FULL_EVERY, CKPT_DEFAULT_FULL_EVERY));
  // A real-time signal the application is unlikely to use; glibc keeps
  // SIGRTMIN and SIGRTMIN+1 for itself.
  g_config.suspend_signal = static_cast<int>(env_number(CKPT_ENV_SIGNAL, SIGRTMAX - 2));
  format_to(g_config.progname, sizeof g_config.progname, "%s", program_invocation_short_name);
  for (char* p = g_config.progname; *p; ++p)
    if (*p == '/' || *p == ' ') *p = '_';
  make_unique_id(g_config.unique_id, sizeof g_config.unique_id);
  // Read when a connection is first made (checkpoint_thread.cpp): a program
  // exec'ed inside the computation keeps its connection and never needs it.
  const char* secret = getenv(CKPT_ENV_SECRET_FILE);
  format_to(g_config.secret_file, sizeof g_config.secret_file, "%s", secret ? secret : "");
  const char* host_name = getenv(CKPT_ENV_HOST_NAME);
  struct utsname u;
  if (host_name && *host_name) format_to(g_config.host_name, sizeof g_config.host_name, "%s", host_name);
  else if (uname(&u) == 0) format_to(g_config.host_name, sizeof g_config.host_name, "%s", u.nodename);
  const char* rsh = getenv(CKPT_ENV_RSH);
  format_to(g_config.rsh, sizeof g_config.rsh, "%s", rsh && *rsh ? rsh : CKPT_DEFAULT_RSH);
  const char* tmpdir = getenv(CKPT_ENV_TMPDIR);
  if (!tmpdir || !*tmpdir) tmpdir = getenv("TMPDIR");
  format_to(g_config.tmpdir, sizeof g_config.tmpdir, "%s", tmpdir && *tmpdir ? tmpdir : "/tmp");
  g_config.modify_env = env_number(CKPT_ENV_MODIFY_ENV, 0) != 0;
}

bool g_active = false;

// This library's file, for LD_PRELOAD of exec'ed programs.
const char* own_path() {
  static char path[4096];
  Dl_info info;
  if (!dladdr(reinterpret_cast<void*>(&own_path), &info) || !info.dli_fname) return nullptr;
  if (!realpath(info.dli_fname, path)) format_to(path, sizeof path, "%s", info.dli_fname);
  return path;
}

// A program exec'ed inside the computation goes on as the same worker: it
// takes over the coordinator connection and the worker's identity. The
// variables are for this program only (exec_env.cpp never passes them on).
void adopt_handover_from_exec() {
  const char* fd_text = getenv(kCoordFdVar);
  const char* state = getenv(kExecStateVar);
  int fd = -1;
  if (fd_text && *fd_text) {
    char* end = nullptr;
    long n = strtol(fd_text, &end, 10);
    struct stat st;
    if (end && *end == '\0' && n >= 0 && n <= INT_MAX && fstat(static_cast<int>(n), &st) == 0 && S_ISSOCK(st.st_mode))
      fd = static_cast<int>(n);
    else
      CKPT_LOG(Warn, "%s=%s is not a socket; connecting anew", kCoordFdVar, fd_text);
  }
  if (fd >= 0 || state) adopt_exec_handover(fd, state);
  unsetenv(kCoordFdVar);
  unsetenv(kExecStateVar);
}

__attribute__((constructor(300))) void bootstrap() {
  // ckpt_launch and ckpt_restart set CKPT_COORD_PORT; without it the library
  // stays inert (wrappers pass through), e.g. when merely linked with -lckpt.
  if (!getenv(CKPT_ENV_COORD_PORT)) return;
  g_active = true;
  read_config();
  log_open(g_config.progname);
  adopt_handover_from_exec();
  install_suspend_handler();
  dispatch_event(CKPT_EVENT_INIT, nullptr);
  // After INIT: plugins may have added CKPT_* variables (the pid table's path).
  const char* lib = own_path();
  snapshot_exec_environment(lib);
  // <prefix>/lib/libckpt.so -> <prefix>/bin/ckpt_launch
  if (lib) {
    char prefix[sizeof g_config.launch_path];
    format_to(prefix, sizeof prefix, "%s", lib);
    for (int up = 0; up < 2; ++up)
      if (char* slash = strrchr(prefix, '/')) *slash = '\0';
    if (prefix[0]) format_to(g_config.launch_path, sizeof g_config.launch_path, "%s/bin/ckpt_launch", prefix);
  }
  start_checkpoint_thread();
  CKPT_LOG(Info, "started: coordinator %s:%u, images in %s", g_config.coord_host, g_config.coord_port,
           g_config.ckptdir);
}

__attribute__((destructor)) void shutdown() {
  if (checkpoint_thread_running()) dispatch_event(CKPT_EVENT_EXIT, nullptr);
}

}  // namespace

bool libckpt_active() { return g_active; }

void make_unique_id(char* out, size_t cap) {
  struct utsname u;
  uname(&u);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  format_to(out, cap, "%s-%d-%lx", u.nodename, raw_getpid(), static_cast<unsigned long>(ts.tv_sec));
}

int ckpt_real_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (!g_real_sigaction) g_real_sigaction = reinterpret_cast<sigaction_fn>(dlsym(RTLD_NEXT, "sigaction"));
  return g_real_sigaction(sig, act, old);
}

}  // namespace ckpt
