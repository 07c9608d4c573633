// DMTCP's plugin interface (dmtcp.h: descriptors, event hooks, barriers) as
// one ckpt plugin that passes ckpt's events on to the DMTCP plugins of the
// process, translated as the header lists.
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include <atomic>

#include "ckpt/plugin.h"

#include "dmtcp.h"

// The header's macros (which let a program run without any checkpointer)
// would rename the definitions below.
#undef dmtcp_register_plugin
#undef dmtcp_global_barrier
#undef dmtcp_local_barrier

namespace {

constexpr int kMaxDmtcpPlugins = 32;

// The process's DMTCP plugins. Registration may come from any thread while
// the checkpoint thread delivers events: an entry is complete before the
// count that publishes it.
struct Registry {
  DmtcpPluginDescriptor_t plugins[kMaxDmtcpPlugins] = {};
  std::atomic<int> count{0};
  std::atomic<bool> initialised{false};  // INIT went out: later registrations get their own
  // Where the process is between ckpt's events (checkpoint thread only).
  bool presuspended = false;  // PRESUSPEND went out; RESUME or RESTART is owed
  bool restarted = false;     // back from an image: the next RESUME is DMTCP's RESTART
};
// constinit: the constructors that register plugins and deliver INIT run
// before dynamic initialisation, which would wipe the registry afterwards.
constinit Registry g_registry;

enum class Order { Registration, Reverse };

void deliver(Registry& r, DmtcpEvent_t event, DmtcpEventData_t* data, Order order) {
  const int n = r.count.load(std::memory_order_acquire);
  for (int k = 0; k < n; ++k) {
    const DmtcpPluginDescriptor_t& p = r.plugins[order == Order::Reverse ? n - 1 - k : k];
    if (p.event_hook) p.event_hook(event, data);
  }
}

void deliver(Registry& r, DmtcpEvent_t event, Order order = Order::Registration) {
  DmtcpEventData_t data;
  memset(&data, 0, sizeof data);
  deliver(r, event, &data, order);
}

// Every library's DMTCP_DECL_PLUGIN defines dmtcp_initialize_plugin, and each
// calls the next one in search order: calling the first registers them all.
void initialize_declared_plugins() {
  using Init = void (*)();
  if (auto first = reinterpret_cast<Init>(dlsym(RTLD_DEFAULT, "dmtcp_initialize_plugin"))) first();
}

void on_event(ckpt_event_t event, void* data) {
  Registry& r = g_registry;
  switch (event) {
    case CKPT_EVENT_INIT:
      initialize_declared_plugins();
      r.initialised.store(true);
      deliver(r, DMTCP_EVENT_INIT);
      break;
    case CKPT_EVENT_EXIT: deliver(r, DMTCP_EVENT_EXIT, Order::Reverse); break;
    case CKPT_EVENT_PRE_EXEC: {
      DmtcpEventData_t d;
      memset(&d, 0, sizeof d);
      d.preExec.serializationFd = -1;
      d.preExec.filename = static_cast<char*>(data);
      deliver(r, DMTCP_EVENT_PRE_EXEC, &d, Order::Registration);
      break;
    }
    case CKPT_EVENT_PRE_FORK: deliver(r, DMTCP_EVENT_ATFORK_PREPARE); break;
    case CKPT_EVENT_FORK_PARENT: deliver(r, DMTCP_EVENT_ATFORK_PARENT); break;
    case CKPT_EVENT_FORK_CHILD:
      // The parent's checkpoint, if one was under way, is not the child's.
      r.presuspended = r.restarted = false;
      deliver(r, DMTCP_EVENT_ATFORK_CHILD);
      break;
    case CKPT_EVENT_PRE_SUSPEND:
      r.presuspended = true;
      deliver(r, DMTCP_EVENT_PRESUSPEND);
      break;
    case CKPT_EVENT_PRE_CHECKPOINT: deliver(r, DMTCP_EVENT_PRECHECKPOINT); break;
    case CKPT_EVENT_RESTART:
      // Not yet: DMTCP's RESTART hooks may call barriers, which need the
      // coordinator; it comes with the restart's RESUME.
      r.restarted = true;
      break;
    case CKPT_EVENT_RESUME:
      r.presuspended = false;
      deliver(r, r.restarted ? DMTCP_EVENT_RESTART : DMTCP_EVENT_RESUME, Order::Reverse);
      break;
    case CKPT_EVENT_RESUMING: {
      // A checkpoint abandoned before this process was frozen has no RESUME
      // of ckpt's; a DMTCP plugin still gets its RESUME.
      if (r.presuspended) {
        r.presuspended = false;
        deliver(r, DMTCP_EVENT_RESUME, Order::Reverse);
      }
      DmtcpEventData_t d;
      memset(&d, 0, sizeof d);
      d.resumeUserThreadInfo.isRestart = r.restarted;
      r.restarted = false;
      deliver(r, DMTCP_EVENT_RUNNING, &d, Order::Reverse);
      break;
    }
    default: break;
  }
}

const ckpt_plugin g_plugin = {"dmtcp", on_event};

__attribute__((constructor(205))) void register_dmtcp_plugins() { ckpt_register_plugin(&g_plugin); }

}  // namespace

extern "C" {

void dmtcp_register_plugin(DmtcpPluginDescriptor_t descr) {
  Registry& r = g_registry;
  const int i = r.count.load();
  if (i >= kMaxDmtcpPlugins) {
    ckpt_log_warning("dmtcp_register_plugin: more than 32 DMTCP plugins; this one gets no events");
    return;
  }
  r.plugins[i] = descr;
  r.count.store(i + 1, std::memory_order_release);
  if (r.initialised.load() && descr.event_hook) {
    DmtcpEventData_t d;
    memset(&d, 0, sizeof d);
    descr.event_hook(DMTCP_EVENT_INIT, &d);
  }
}

// DMTCP's own header builds NEXT_FNC on this: a plugin built against it
// asks for the definition after its own. dlsym(RTLD_NEXT) would answer for
// this library instead, so the search starts after the caller's object.
void* dmtcp_dlsym(void* handle, const char* symbol) {
  if (handle != RTLD_NEXT) return dlsym(handle, symbol);
  Dl_info info;
  link_map* caller = nullptr;
  if (!dladdr1(__builtin_return_address(0), &info, reinterpret_cast<void**>(&caller), RTLD_DL_LINKMAP) || !caller)
    return nullptr;
  for (link_map* next = caller->l_next; next; next = next->l_next) {
    void* object = dlopen(next->l_name[0] ? next->l_name : nullptr, RTLD_LAZY | RTLD_NOLOAD);
    if (!object) continue;
    void* found = dlsym(object, symbol);
    dlclose(object);
    // dlsym on a handle also searches that object's dependencies: take only
    // a definition of this very object.
    link_map* owner = nullptr;
    if (found && dladdr1(found, &info, reinterpret_cast<void**>(&owner), RTLD_DL_LINKMAP) && owner == next)
      return found;
  }
  return nullptr;
}

void dmtcp_global_barrier(const char* barrier) { ckpt_plugin_barrier(barrier, CKPT_BARRIER_ALL); }

void dmtcp_local_barrier(const char* barrier) { ckpt_plugin_barrier(barrier, CKPT_BARRIER_HOST); }

}  // extern "C"
