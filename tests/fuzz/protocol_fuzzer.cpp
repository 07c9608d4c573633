// Fuzzes what peers can make the coordinator do: the framing of each
// connection's byte stream (framing.h, the server's rule) and the state
// machine fed with the messages decoded from several connections at once,
// interleaved with disconnects, timers and script outcomes, as the network
// shell would deliver them.
//
// The input is a script of steps (protocol_input.h); the corpus holds
// complete checkpoints, restarts and commands (make_seeds.cpp).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "framing.h"
#include "protocol_input.h"
#include "state_machine.h"

namespace {

using namespace ckpt;
using namespace ckpt::coord;
using fuzz::Step;

struct Connection {
  std::string pending;  // bytes received but not yet a whole message
  bool spoke = false;
};

class Shell {
 public:
  Shell() : coord_(config()) { apply(coord_.start(now_)); }

  void run(fuzz::StepReader& in) {
    for (Step step; !exited_ && in.next(step);) {
      switch (step.kind) {
        case Step::Connect: connect(); break;
        case Step::Data: receive(pick(step.target), step.data); break;
        case Step::Disconnect: drop(pick(step.target)); break;
        case Step::Timer: fire(step.target, step.value); break;
        case Step::ScriptResult: script_result(step.value); break;
        case Step::Wait: now_ += std::chrono::milliseconds(step.value); break;
        case Step::kKinds: break;
      }
    }
  }

 private:
  static Config config() {
    Config c;
    c.hostname = "fuzzhost";
    c.pid = 1;
    c.ckptdir = "/ckpt";
    c.timeout = std::chrono::seconds(60);
    c.restart_program = "ckpt_restart";
    return c;
  }

  // The connection a step addresses: an index into the open ones.
  ClientId pick(uint32_t index) const {
    if (open_.empty()) return 0;
    auto it = open_.begin();
    std::advance(it, index % open_.size());
    return it->first;
  }

  void connect() {
    // The server accepts without bound; a few suffice to interleave peers.
    if (open_.size() >= 16) return;
    const ClientId id = next_id_++;
    open_[id];
    apply(coord_.connected(id, now_));
  }

  // The server's read loop, over bytes that arrive in arbitrary pieces.
  void receive(ClientId id, const std::string& bytes) {
    auto it = open_.find(id);
    if (it == open_.end()) return;
    it->second.pending += bytes;
    for (;;) {
      Connection& c = open_.at(id);
      if (c.pending.size() < sizeof(proto::MsgHeader)) return;
      proto::MsgHeader h;
      std::memcpy(&h, c.pending.data(), sizeof h);
      if (!header_acceptable(h, !c.spoke)) return drop(id);
      if (c.pending.size() - sizeof h < h.payload_len) return;
      const std::string payload = c.pending.substr(sizeof h, h.payload_len);
      c.pending.erase(0, sizeof h + h.payload_len);
      c.spoke = true;
      apply(coord_.message(id, h, payload, now_));
      if (!open_.count(id)) return;
    }
  }

  void drop(ClientId id) {
    if (open_.erase(id) == 0) return;
    apply(coord_.disconnected(id, now_));
  }

  // A timer the machine armed fires with its token; `value` also tries
  // stale tokens, which the machine must ignore.
  void fire(uint32_t kind_index, uint32_t value) {
    const auto kind = static_cast<TimerKind>(kind_index % 5);
    auto it = armed_.find(kind);
    const uint64_t token = it != armed_.end() && (value & 1) == 0 ? it->second : value >> 1;
    if (it != armed_.end() && token == it->second) armed_.erase(it);
    apply(coord_.timer_fired(kind, token, now_));
  }

  void script_result(uint32_t value) {
    if (scripts_.empty()) return;
    const uint64_t generation = scripts_.front();
    scripts_.erase(scripts_.begin());
    apply(coord_.script_written(generation, value & 1 ? "No space left on device" : "", now_));
  }

  void apply(const Actions& actions) {
    for (const Action& a : actions) {
      if (auto* send = std::get_if<Send>(&a)) {
        // What the shell would put on the wire: the header must describe the payload.
        if (send->header.payload_len != send->payload.size() || !proto::header_is_valid(send->header))
          __builtin_trap();
      } else if (auto* close = std::get_if<Close>(&a)) {
        closing_.push_back(close->client);
      } else if (auto* arm = std::get_if<ArmTimer>(&a)) {
        armed_[arm->kind] = arm->token;
      } else if (auto* cancel = std::get_if<CancelTimer>(&a)) {
        armed_.erase(cancel->kind);
      } else if (auto* script = std::get_if<WriteScript>(&a)) {
        scripts_.push_back(script->generation);
      } else if (std::holds_alternative<Exit>(a)) {
        exited_ = true;
      }
    }
    // A closed connection's disconnect reaches the machine after the
    // actions that closed it, as in the server.
    while (!closing_.empty()) {
      const ClientId id = closing_.back();
      closing_.pop_back();
      drop(id);
    }
  }

  Coordinator coord_;
  TimePoint now_ = TimePoint{} + std::chrono::hours(24 * 365 * 50);
  std::map<ClientId, Connection> open_;
  std::map<TimerKind, uint64_t> armed_;
  std::vector<uint64_t> scripts_;
  std::vector<ClientId> closing_;
  ClientId next_id_ = 1;
  bool exited_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::StepReader in(data, size);
  Shell shell;
  shell.run(in);
  return 0;
}
