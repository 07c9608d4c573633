// The plugin manager: the registry behind include/ckpt/plugin.h. Plugins
// (ours in plugins/, third parties', the application's callbacks) are kept in
// fixed tables so events can be dispatched while other threads are frozen.
#include <string.h>
#include <sys/mman.h>

#include <atomic>

#include "ckpt/raw_syscall.h"
#include "core.h"
#include "log.h"

namespace ckpt {
namespace {

constexpr int kMaxPlugins = 64;
constexpr int kMaxCallbacks = 64;
// Sections live in one reserved range of address space (PROT_NONE costs
// nothing and is not saved in images); the part in use is made writable in
// steps. A section holds a whole file or pipe, so it may be large; its size
// is 32 bits in the image.
constexpr size_t kSectionArenaReserve = size_t{4} << 30;
constexpr size_t kSectionArenaStep = size_t{1} << 20;

const ckpt_plugin* g_plugins[kMaxPlugins];
std::atomic<int> g_plugin_count{0};
std::atomic<bool> g_initialised{false};

void (*g_atcheckpoint[kMaxCallbacks])();
std::atomic<int> g_atcheckpoint_count{0};
void (*g_atrestart[kMaxCallbacks])();
std::atomic<int> g_atrestart_count{0};

SavedSection g_sections[kMaxSections];
// As many as a process can have regions: every one may be claimed.
RegionClaim g_region_claims[image::kMaxRegions];
int g_region_claim_count = 0;
int g_section_count = 0;
char* g_section_arena = nullptr;
size_t g_section_used = 0;
size_t g_section_writable = 0;

// Makes the first `bytes` of the arena writable (mapping it on first use).
bool arena_make_writable(size_t bytes) {
  if (bytes <= g_section_writable) return true;
  if (bytes > kSectionArenaReserve) return false;
  if (!g_section_arena) {
    void* p = mmap(nullptr, kSectionArenaReserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    g_section_arena = static_cast<char*>(p);
  }
  size_t want = (bytes + kSectionArenaStep - 1) & ~(kSectionArenaStep - 1);
  if (mprotect(g_section_arena + g_section_writable, want - g_section_writable, PROT_READ | PROT_WRITE) != 0)
    return false;
  g_section_writable = want;
  return true;
}

// After the snapshot the sections are only in the snapshot's copy of
// memory: give the pages back and shrink the saved part of the arena to
// nothing, so a big section does not stay in memory or in later images.
void arena_release() {
  if (!g_section_arena || g_section_writable == 0) return;
  madvise(g_section_arena, g_section_writable, MADV_DONTNEED);
  mprotect(g_section_arena, g_section_writable, PROT_NONE);
  g_section_writable = 0;
  g_section_count = 0;
  g_section_used = 0;
}

// What plugins said of the checkpoint under way (ckpt_fail_checkpoint,
// ckpt_checkpoint_warning, ckpt_claim_fd): fixed storage, since they speak
// while other threads are frozen.
constexpr int kMaxClaimableFd = 1 << 20;  // the kernel's default nr_open
char g_failure[512];
char g_warnings[16384];  // one warning per line
size_t g_warnings_len = 0;
uint64_t g_claimed[kMaxClaimableFd / 64];
int g_highest_claim = -1;

int append_callback(void (**table)(), std::atomic<int>& count, void (*fn)()) {
  int i = count.load();
  if (!fn || i >= kMaxCallbacks) return -1;
  table[i] = fn;
  count.store(i + 1, std::memory_order_release);
  return 0;
}

}  // namespace

void dispatch_event(ckpt_event_t event, void* data) {
  if (event == CKPT_EVENT_INIT) g_initialised.store(true);
  int n = g_plugin_count.load(std::memory_order_acquire);
  bool reverse = event == CKPT_EVENT_RESUME || event == CKPT_EVENT_EXIT;
  for (int k = 0; k < n; ++k) {
    const ckpt_plugin* p = g_plugins[reverse ? n - 1 - k : k];
    if (p->event) p->event(event, data);
  }
  // RESUME comes after the snapshot (or after an aborted checkpoint, or a
  // restart): nobody reads this checkpoint's sections any more.
  if (event == CKPT_EVENT_RESUME) arena_release();
}

void run_atcheckpoint_callbacks() {
  for (int i = 0, n = g_atcheckpoint_count.load(); i < n; ++i) g_atcheckpoint[i]();
}

void run_atrestart_callbacks() {
  for (int i = 0, n = g_atrestart_count.load(); i < n; ++i) g_atrestart[i]();
}

void sections_reset() {
  g_section_count = 0;
  g_section_used = 0;
  g_region_claim_count = 0;
}

void outcome_reset() {
  g_failure[0] = '\0';
  g_warnings_len = 0;
  g_warnings[0] = '\0';
  if (g_highest_claim >= 0) memset(g_claimed, 0, (static_cast<size_t>(g_highest_claim) / 64 + 1) * sizeof g_claimed[0]);
  g_highest_claim = -1;
}

const char* outcome_failure() { return g_failure[0] ? g_failure : nullptr; }

const char* outcome_warnings(size_t* len) {
  *len = g_warnings_len;
  return g_warnings;
}

int region_claims(const RegionClaim** out) {
  *out = g_region_claims;
  return g_region_claim_count;
}

int sections_list(SavedSection* out, int max) {
  int n = g_section_count < max ? g_section_count : max;
  for (int i = 0; i < n; ++i) out[i] = g_sections[i];
  return n;
}

}  // namespace ckpt

using namespace ckpt;

extern "C" {

int ckpt_register_plugin(const ckpt_plugin* plugin) {
  int i = g_plugin_count.load();
  if (!plugin || i >= kMaxPlugins) return -1;
  g_plugins[i] = plugin;
  g_plugin_count.store(i + 1, std::memory_order_release);
  // A plugin loaded after start-up (dlopen) still gets its INIT event.
  if (g_initialised.load() && plugin->event) plugin->event(CKPT_EVENT_INIT, nullptr);
  return 0;
}

int ckpt_atcheckpoint(void (*fn)(void)) { return append_callback(g_atcheckpoint, g_atcheckpoint_count, fn); }
int ckpt_atrestart(void (*fn)(void)) { return append_callback(g_atrestart, g_atrestart_count, fn); }

int ckpt_save_section(const char* name, const void* data, size_t len) {
  const char* why = nullptr;
  if (!name || strlen(name) >= sizeof g_sections[0].name) why = "the name is empty or longer than 31 bytes";
  // The last slot is the image writer's own "stats" section (snapshot.cpp).
  else if (g_section_count >= kMaxSections - 1) why = "too many sections";
  else if (len > UINT32_MAX) why = "a section holds at most 4 GiB - 1";
  else if (len > kSectionArenaReserve - g_section_used || !arena_make_writable(g_section_used + len))
    why = "out of section space";
  if (why) {
    // Whatever the caller does next, the image would lack this state.
    char reason[256];
    format_to(reason, sizeof reason, "cannot save section %s (%zu bytes): %s", name ? name : "(null)", len, why);
    ckpt_fail_checkpoint(reason);
    return -1;
  }
  SavedSection& s = g_sections[g_section_count++];
  strncpy(s.name, name, sizeof s.name - 1);
  s.name[sizeof s.name - 1] = '\0';
  s.size = static_cast<uint32_t>(len);
  s.data = g_section_arena + g_section_used;
  memcpy(g_section_arena + g_section_used, data, len);
  g_section_used += (len + 7) & ~size_t{7};
  return 0;
}

void ckpt_untrack_memory(const void* addr, size_t len) {
  const uint64_t page = 4096, start = reinterpret_cast<uint64_t>(addr) & ~(page - 1);
  const uint64_t end = (reinterpret_cast<uint64_t>(addr) + len + page - 1) & ~(page - 1);
  if (len && end > start) ckpt::untrack_memory(start, end);
}

int ckpt_save_region_bytes(const void* addr, size_t len, const void* copy) {
  const auto start = reinterpret_cast<uint64_t>(addr), copy_at = reinterpret_cast<uint64_t>(copy);
  const uint64_t page = 4096;
  const char* why = nullptr;
  if (len == 0 || (start | len | copy_at) % page) why = "not page-aligned";
  else if (g_region_claim_count >= static_cast<int>(image::kMaxRegions)) why = "too many claimed regions";
  if (why) {
    char reason[160];
    format_to(reason, sizeof reason, "cannot claim memory 0x%lx-0x%lx: %s", static_cast<unsigned long>(start),
              static_cast<unsigned long>(start + len), why);
    ckpt_fail_checkpoint(reason);
    return -1;
  }
  g_region_claims[g_region_claim_count++] = {start, start + len, static_cast<const char*>(copy)};
  return 0;
}

void ckpt_fail_checkpoint(const char* reason) {
  if (g_failure[0]) return;
  format_to(g_failure, sizeof g_failure, "%s", reason && *reason ? reason : "a plugin failed the checkpoint");
  for (char* p = g_failure; *p; ++p)
    if (*p == '\n') *p = ' ';
  CKPT_LOG(Error, "checkpoint fails: %s", g_failure);
}

void ckpt_checkpoint_warning(const char* text) {
  if (!text || !*text) return;
  CKPT_LOG(Warn, "checkpoint warning: %s", text);
  size_t room = sizeof g_warnings - g_warnings_len;
  if (room < 2) return;
  size_t n = format_to(g_warnings + g_warnings_len, room - 1, "%s", text);
  for (size_t i = 0; i < n; ++i)
    if (g_warnings[g_warnings_len + i] == '\n') g_warnings[g_warnings_len + i] = ' ';
  g_warnings_len += n;
  g_warnings[g_warnings_len++] = '\n';
  g_warnings[g_warnings_len] = '\0';
}

int ckpt_loss_accepted(void) { return g_config.accept_loss ? 1 : 0; }

int ckpt_claim_fd(int fd) {
  if (fd < 0 || fd >= kMaxClaimableFd) return -1;
  g_claimed[fd / 64] |= uint64_t{1} << (fd % 64);
  if (fd > g_highest_claim) g_highest_claim = fd;
  return 0;
}

int ckpt_fd_claimed(int fd) {
  if (fd < 0 || fd > g_highest_claim) return 0;
  return (g_claimed[fd / 64] >> (fd % 64)) & 1;
}

int ckpt_is_enabled(void) { return checkpoint_thread_running() ? 1 : 0; }

int ckpt_suspend_signal(void) { return g_config.suspend_signal; }

void ckpt_log_warning(const char* text) { CKPT_LOG(Warn, "%s", text); }

const sigset_t* ckpt_without_suspend_signal(const sigset_t* set, sigset_t* copy) {
  if (!ckpt_readable_user_memory(set, sizeof *set) || !ckpt_is_enabled() || !sigismember(set, g_config.suspend_signal))
    return set;
  *copy = *set;
  sigdelset(copy, g_config.suspend_signal);
  return copy;
}

int ckpt_checkpoint(void) { return request_checkpoint_and_wait(); }

int ckpt_delay_checkpoints(void) {
  fork_gate_enter();
  return 0;
}

int ckpt_allow_checkpoints(void) {
  fork_gate_leave();
  return 0;
}

const char* ckpt_last_image(void) { return last_image_path(); }

const char* ckpt_image_dir(void) { return g_config.ckptdir; }

const char* ckpt_tmpdir(void) { return g_config.tmpdir; }

void ckpt_local_counts(int* checkpoints, int* restarts) { local_counts(checkpoints, restarts); }

int ckpt_plugin_barrier(const char* name, int scope) { return name ? plugin_barrier(name, scope) : -1; }

}  // extern "C"
