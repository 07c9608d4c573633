// Decoder of section "signal" (libckpt/image/signal_section.h), for ckpt_info.
#include <signal.h>

#include "section_schema.h"
#include "signal_section.h"

namespace ckpt::image {
namespace {

Json action_flags(uint64_t flags) {
  static constexpr std::pair<uint64_t, const char*> kNames[] = {
      {SA_NOCLDSTOP, "SA_NOCLDSTOP"}, {SA_NOCLDWAIT, "SA_NOCLDWAIT"}, {SA_SIGINFO, "SA_SIGINFO"},
      {0x04000000, "SA_RESTORER"},    {SA_ONSTACK, "SA_ONSTACK"},     {SA_RESTART, "SA_RESTART"},
      {SA_NODEFER, "SA_NODEFER"},     {SA_RESETHAND, "SA_RESETHAND"}};
  Json out = Json::array();
  uint64_t known = 0;
  for (auto [bit, name] : kNames) {
    known |= bit;
    if (flags & bit) out.push_back(name);
  }
  if (flags & ~known) out.push_back(hex_string(flags & ~known));
  return out;
}

std::string handler_name(uint64_t handler) {
  if (handler == 0) return "default";
  if (handler == 1) return "ignore";
  return hex_string(handler);
}

const char* code_name(const SavedSiginfo& info) {
  switch (info.code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_SIGIO: return "SI_SIGIO";
    case SI_TKILL: return "SI_TKILL";
  }
  if (info.signo == SIGCHLD && info.code > 0 && info.code <= CLD_CONTINUED) {
    static constexpr const char* kChild[] = {"", "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED",
                                             "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"};
    return kChild[info.code];
  }
  return nullptr;
}

template <typename T>
T field(const SavedSiginfo& info, size_t offset) {
  T v;
  std::memcpy(&v, info.fields + offset, sizeof v);
  return v;
}

// The kernel's siginfo union on x86-64: kill/rt/sigchld start with pid and
// uid; rt and timer carry a sigval at 8; sigchld the status at 8.
Json siginfo_json(const SavedSiginfo& info) {
  Json out = {{"signo", info.signo}, {"name", signal_name(info.signo)}, {"code", info.code}};
  const char* code = code_name(info);
  out["code_name"] = code ? Json(code) : Json(nullptr);
  if (info.err) out["errno"] = info.err;
  bool child = info.signo == SIGCHLD && info.code > 0 && info.code <= CLD_CONTINUED;
  if (info.code == SI_USER || info.code == SI_QUEUE || info.code == SI_TKILL || info.code == SI_MESGQ || child) {
    out["pid"] = field<int32_t>(info, 0);
    out["uid"] = field<uint32_t>(info, 4);
  }
  if (info.code == SI_QUEUE || info.code == SI_TIMER || info.code == SI_MESGQ) out["value"] = field<int64_t>(info, 8);
  if (info.code == SI_TIMER) {
    out["timer_id"] = field<int32_t>(info, 0);
    out["overrun"] = field<int32_t>(info, 4);
  }
  if (child) out["status"] = field<int32_t>(info, 8);
  return out;
}

Json decode_signal(std::string_view, Bytes bytes) {
  auto section = read_exact<SignalSection>(bytes, "signal");
  const SignalSection* s = &section;
  check_version(s->version, kSignalSectionVersion, "signal");
  if (s->queued_count > kMaxQueuedSignals || s->thread_count > kMaxPendingThreads)
    throw SchemaError("signal: " + std::to_string(s->queued_count) + " queued signals and " +
                      std::to_string(s->thread_count) + " threads, at most " + std::to_string(kMaxQueuedSignals) +
                      " and " + std::to_string(kMaxPendingThreads));
  Json actions = Json::array();
  for (uint32_t sig = 1; sig <= kMaxSignal; ++sig) {
    const SavedSigaction& a = s->actions[sig];
    if (!a.handler && !a.flags && !a.mask && !a.restorer) continue;  // default, nothing set
    actions.push_back({{"signal", sig},
                       {"name", signal_name(static_cast<int>(sig))},
                       {"handler", handler_name(a.handler)},
                       {"flags", action_flags(a.flags)},
                       {"mask", signal_names(a.mask)},
                       {"restorer", hex_string(a.restorer)}});
  }
  Json queued = Json::array();
  for (uint32_t i = 0; i < s->queued_count; ++i) queued.push_back(siginfo_json(s->queued[i]));
  Json threads = Json::array();
  for (uint32_t i = 0; i < s->thread_count; ++i)
    threads.push_back({{"tid", s->threads[i].virt_tid}, {"pending", signal_names(s->threads[i].pending)}});
  return {{"version", s->version}, {"actions", actions}, {"process_pending", queued}, {"thread_pending", threads}};
}

const SectionSchema kSignalSchema{kSignalSection, false, decode_signal};
const SchemaRegistration kRegistered(kSignalSchema);

}  // namespace
}  // namespace ckpt::image
