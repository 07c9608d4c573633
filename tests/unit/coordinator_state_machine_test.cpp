// The coordinator's state machine driven by fake workers and fake
// ckpt_command connections: no sockets, no clock, no files.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "cli_json.h"
#include "state_machine.h"

namespace ckpt::coord {
namespace {

using namespace std::chrono_literals;
using proto::Barrier;
using proto::MsgType;

struct WorkerSpec {
  std::string program = "sim";
  int pid = 4242;
  std::string host = "node1";
  bool restart = false;
  uint32_t computation_size = 0;
  uint64_t generation = 0;
  uint32_t interval = 0;
  std::string unique_id = "";  // empty: one of its own ("id<connection>")
};

class Harness {
 public:
  explicit Harness(Config config = default_config()) : c(std::move(config)) { last = c.start(now); }

  static Config default_config() {
    Config cfg;
    cfg.hostname = "node1";
    cfg.port = 7779;
    cfg.pid = 99;
    cfg.ckptdir = "/ckpt";
    cfg.timeout = 60s;
    cfg.restart_program = "/opt/ckpt/bin/ckpt_restart";
    return cfg;
  }

  ClientId connect() {
    const ClientId id = next_++;
    last = c.connected(id, now);
    return id;
  }

  ClientId worker(const WorkerSpec& s = {}) {
    const ClientId id = connect();
    proto::HelloPayload h{};
    h.virt_pid = s.pid;
    h.real_pid = s.pid + 1000;
    h.is_restart = s.restart ? 1 : 0;
    h.computation_size = s.computation_size;
    h.generation = s.generation;
    h.interval_request = s.interval;
    std::strncpy(h.progname, s.program.c_str(), sizeof h.progname - 1);
    std::strncpy(h.hostname, s.host.c_str(), sizeof h.hostname - 1);
    const std::string unique_id = s.unique_id.empty() ? "id" + std::to_string(id) : s.unique_id;
    std::strncpy(h.unique_id, unique_id.c_str(), sizeof h.unique_id - 1);
    last = msg(id, proto::make_header(MsgType::Hello, sizeof h), bytes(h));
    return id;
  }

  // A ckpt_command connection sending one request.
  ClientId command(MsgType type, uint64_t arg = 0) {
    const ClientId id = connect();
    last = msg(id, proto::make_header(type, 0, 0, arg));
    return id;
  }

  Actions msg(ClientId id, const proto::MsgHeader& h, const std::string& payload = {}) {
    last = c.message(id, h, payload, now);
    return last;
  }

  Actions reached(ClientId id, Barrier b, uint64_t generation) {
    return msg(id, proto::make_header(MsgType::Reached, 0, generation, static_cast<uint64_t>(b)));
  }

  Actions written(ClientId id, uint64_t generation, const std::string& path, uint64_t size = 1000) {
    proto::WrittenPayload w{};
    w.image_size = size;
    std::strncpy(w.image_path, path.c_str(), sizeof w.image_path - 1);
    return msg(id, proto::make_header(MsgType::Reached, sizeof w, generation, static_cast<uint64_t>(Barrier::Written)),
               bytes(w));
  }

  Actions failed(ClientId id, uint64_t generation, const std::string& reason, int status = ENOSPC) {
    return msg(id, proto::make_header(MsgType::Failed, static_cast<uint32_t>(reason.size()), generation, 0, status),
               reason);
  }

  Actions disconnect(ClientId id) {
    last = c.disconnected(id, now);
    return last;
  }

  // Fires the timer of `kind` most recently armed in `actions`.
  Actions fire(TimerKind kind, const Actions& armed_in) {
    for (auto it = armed_in.rbegin(); it != armed_in.rend(); ++it)
      if (auto* a = std::get_if<ArmTimer>(&*it); a && a->kind == kind) {
        now += a->delay;
        last = c.timer_fired(kind, a->token, now);
        return last;
      }
    ADD_FAILURE() << "no timer of that kind armed";
    return {};
  }

  // Runs every barrier of a checkpoint with the given workers, returning the
  // WriteScript action.
  WriteScript run_to_script(const std::vector<ClientId>& workers, uint64_t generation) {
    for (Barrier b : {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed, Barrier::Refilled})
      for (ClientId w : workers) reached(w, b, generation);
    for (ClientId w : workers) written(w, generation, "/ckpt/img_" + std::to_string(w) + ".ckpt");
    for (const Action& a : last)
      if (auto* s = std::get_if<WriteScript>(&a)) return *s;
    ADD_FAILURE() << "no WriteScript after every image was written";
    return {};
  }

  template <typename T>
  static std::string bytes(const T& v) {
    return std::string(reinterpret_cast<const char*>(&v), sizeof v);
  }

  Coordinator c;
  TimePoint now = TimePoint{} + 1000000s;
  Actions last;

 private:
  ClientId next_ = 1;
};

std::vector<Send> sends(const Actions& actions, ClientId to, MsgType type) {
  std::vector<Send> out;
  for (const Action& a : actions)
    if (auto* s = std::get_if<Send>(&a); s && s->to == to && s->header.type == static_cast<uint16_t>(type))
      out.push_back(*s);
  return out;
}

bool has_advance(const Actions& actions, ClientId to, Barrier b) {
  for (const Send& s : sends(actions, to, MsgType::Advance))
    if (s.header.arg == static_cast<uint64_t>(b)) return true;
  return false;
}

template <typename T>
bool has(const Actions& actions) {
  for (const Action& a : actions)
    if (std::holds_alternative<T>(a)) return true;
  return false;
}

bool logged(const Actions& actions, LogLevel level, const std::string& needle) {
  for (const Action& a : actions)
    if (auto* l = std::get_if<Log>(&a); l && l->level == level && l->text.find(needle) != std::string::npos)
      return true;
  return false;
}

Send single_reply(const Actions& actions, ClientId cmd) {
  auto r = sends(actions, cmd, MsgType::CmdReply);
  EXPECT_EQ(r.size(), 1u);
  return r.empty() ? Send{} : r.front();
}

TEST(CoordinatorStateMachine, HelloIsWelcomedWithWorkerId) {
  Harness h;
  const ClientId a = h.worker();
  auto w = sends(h.last, a, MsgType::Welcome);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].header.arg, 1u);
  const ClientId b = h.worker();
  EXPECT_EQ(sends(h.last, b, MsgType::Welcome).at(0).header.arg, 2u);
}

TEST(CoordinatorStateMachine, FullCheckpointRoundCommitsAndReplies) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.program = "sim", .pid = 4243});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);

  // Every worker is told to suspend, with the computation size and ckptdir.
  for (ClientId w : {a, b}) {
    auto adv = sends(h.last, w, MsgType::Advance);
    ASSERT_EQ(adv.size(), 1u);
    EXPECT_EQ(adv[0].header.arg, static_cast<uint64_t>(Barrier::Suspended));
    EXPECT_EQ(adv[0].header.generation, 1u);
    ASSERT_EQ(adv[0].payload.size(), sizeof(proto::AdvancePayload));
    proto::AdvancePayload p;
    std::memcpy(&p, adv[0].payload.data(), sizeof p);
    EXPECT_EQ(p.computation_size, 2u);
    EXPECT_STREQ(p.ckptdir, "/ckpt");
  }

  // Each barrier waits for everybody before the next is announced.
  const Barrier order[] = {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed, Barrier::Refilled};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(sends(h.reached(a, order[i], 1), b, MsgType::Advance).empty());
    auto after = h.reached(b, order[i], 1);
    if (i < 3) {
      EXPECT_TRUE(has_advance(after, a, order[i + 1]));
      EXPECT_TRUE(has_advance(after, b, order[i + 1]));
    } else {
      EXPECT_FALSE(has<WriteScript>(after)) << "images are not written yet";
    }
  }
  EXPECT_FALSE(has<WriteScript>(h.written(a, 1, "/ckpt/a.ckpt", 100)));
  EXPECT_TRUE(sends(h.last, cmd, MsgType::CmdReply).empty());
  h.written(b, 1, "/ckpt/b.ckpt", 200);

  WriteScript script;
  for (const Action& act : h.last)
    if (auto* s = std::get_if<WriteScript>(&act)) script = *s;
  EXPECT_EQ(script.path, "/ckpt/ckpt_restart_g1.sh") << "the generation's own script: its commit";
  EXPECT_EQ(script.latest_path, "/ckpt/ckpt_restart_script.sh");
  EXPECT_NE(script.text.find("'/ckpt/a.ckpt'"), std::string::npos);
  EXPECT_NE(script.text.find("'/ckpt/b.ckpt'"), std::string::npos);
  EXPECT_TRUE(sends(h.last, a, MsgType::Committed).empty()) << "commit only after the script is durable";

  auto done = h.c.script_written(1, "", h.now);
  EXPECT_EQ(sends(done, a, MsgType::Committed).at(0).header.generation, 1u);
  EXPECT_EQ(sends(done, b, MsgType::Committed).size(), 1u);
  const Send reply = single_reply(done, cmd);
  EXPECT_EQ(reply.header.status, 0);
  EXPECT_NE(reply.payload.find("\"generation\":1"), std::string::npos);
  EXPECT_NE(reply.payload.find("/ckpt/a.ckpt"), std::string::npos);
  EXPECT_NE(reply.payload.find("\"script\":\"/ckpt/ckpt_restart_script.sh\""), std::string::npos);
  EXPECT_NE(reply.payload.find("\"generation_script\":\"/ckpt/ckpt_restart_g1.sh\""), std::string::npos);
  EXPECT_NE(reply.payload.find("\"bytes\":300"), std::string::npos);
  EXPECT_TRUE(has<Close>(done));
}

// A stopped process cannot answer: the shell is asked to continue every
// worker it can prove is a stopped one of ours, before the first Advance.
TEST(CoordinatorStateMachine, CheckpointAndKillFirstContinueStoppedWorkers) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.program = "sim", .pid = 4243});
  auto targets = [](const Actions& actions) {
    std::vector<std::pair<ClientId, int>> out;
    size_t wake_at = actions.size(), first_advance = actions.size();
    for (size_t i = 0; i < actions.size(); ++i) {
      if (auto* w = std::get_if<ContinueStopped>(&actions[i])) {
        wake_at = std::min(wake_at, i);
        for (const auto& t : w->workers) out.emplace_back(t.client, t.real_pid);
      }
      if (auto* s = std::get_if<Send>(&actions[i]);
          s && (s->header.type == static_cast<uint16_t>(MsgType::Advance) ||
                s->header.type == static_cast<uint16_t>(MsgType::Freeze)))
        first_advance = std::min(first_advance, i);
    }
    EXPECT_LT(wake_at, first_advance) << "the workers are continued before they are asked anything";
    return out;
  };
  const std::vector<std::pair<ClientId, int>> both = {{a, 5242}, {b, 5243}};
  h.command(MsgType::CmdCheckpoint);
  EXPECT_EQ(targets(h.last), both);
  h.run_to_script({a, b}, 1);
  h.c.script_written(1, "", h.now);
  h.command(MsgType::CmdKill);
  EXPECT_EQ(targets(h.last), both) << "the freeze before a kill needs them too";
}

TEST(CoordinatorStateMachine, CheckpointThenKillNeverResumesAndKillsOnceCommitted) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.program = "sim", .pid = 4243});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint, proto::kCheckpointThenKill);
  for (Barrier barrier : {Barrier::Suspended, Barrier::Drained}) {
    h.reached(a, barrier, 1);
    h.reached(b, barrier, 1);
  }
  h.reached(a, Barrier::Checkpointed, 1);
  auto after = h.reached(b, Barrier::Checkpointed, 1);
  EXPECT_FALSE(has_advance(after, a, Barrier::Refilled)) << "nothing may run after the snapshot";
  EXPECT_FALSE(has_advance(after, b, Barrier::Refilled));
  // A plain checkpoint request cannot join it, nor the other way round.
  const ClientId other = h.command(MsgType::CmdCheckpoint);
  EXPECT_TRUE(sends(h.last, other, MsgType::CmdReply).empty()) << "a plain request is answered with it";
  h.written(a, 1, "/ckpt/a.ckpt", 100);
  EXPECT_TRUE(sends(h.last, a, MsgType::Kill).empty());
  h.written(b, 1, "/ckpt/b.ckpt", 200);
  ASSERT_TRUE(has<WriteScript>(h.last));
  EXPECT_TRUE(sends(h.last, a, MsgType::Kill).empty()) << "killed only once the generation is committed";
  auto done = h.c.script_written(1, "", h.now);
  for (ClientId w : {a, b}) {
    EXPECT_EQ(sends(done, w, MsgType::Committed).size(), 1u);
    EXPECT_EQ(sends(done, w, MsgType::Kill).size(), 1u);
  }
  const Send reply = single_reply(done, cmd);
  EXPECT_EQ(reply.header.status, 0);
  EXPECT_NE(reply.payload.find("\"killed\":2"), std::string::npos) << reply.payload;
}

TEST(CoordinatorStateMachine, CheckpointThenKillCannotJoinACheckpointWhoseProcessesResume) {
  Harness h;
  h.worker();
  h.command(MsgType::CmdCheckpoint);
  const ClientId late = h.command(MsgType::CmdCheckpoint, proto::kCheckpointThenKill);
  EXPECT_EQ(single_reply(h.last, late).header.status, EBUSY);
}

TEST(CoordinatorStateMachine, WrittenMayOvertakeRefilled) {
  Harness h;
  const ClientId a = h.worker();
  h.command(MsgType::CmdCheckpoint);
  for (Barrier b : {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed}) h.reached(a, b, 1);
  EXPECT_FALSE(has<WriteScript>(h.written(a, 1, "/ckpt/a.ckpt")));
  EXPECT_TRUE(has<WriteScript>(h.reached(a, Barrier::Refilled, 1)));
}

TEST(CoordinatorStateMachine, WrittenMayOvertakeCheckpointedOfOtherProcesses) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 5});
  h.command(MsgType::CmdCheckpoint);
  for (Barrier x : {Barrier::Suspended, Barrier::Drained})
    for (ClientId w : {a, b}) h.reached(w, x, 1);
  h.reached(a, Barrier::Checkpointed, 1);
  h.written(a, 1, "/ckpt/a.ckpt");  // a's writer is done before b even took its snapshot
  h.reached(b, Barrier::Checkpointed, 1);
  h.written(b, 1, "/ckpt/b.ckpt");
  h.reached(a, Barrier::Refilled, 1);
  EXPECT_TRUE(has<WriteScript>(h.reached(b, Barrier::Refilled, 1)));
}

TEST(CoordinatorStateMachine, ProcessMayExitOnceRunningWithItsImageWritten) {
  // A short-lived child exits right after the checkpoint; its image writer
  // (which holds the connection until it is done) has reported WRITTEN.
  Harness h;
  const ClientId a = h.worker(), child = h.worker({.pid = 5});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  for (Barrier x : {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed})
    for (ClientId w : {a, child}) h.reached(w, x, 1);
  h.reached(child, Barrier::Refilled, 1);
  h.written(child, 1, "/ckpt/child.ckpt");
  EXPECT_TRUE(sends(h.disconnect(child), a, MsgType::Abort).empty());
  h.reached(a, Barrier::Refilled, 1);
  h.written(a, 1, "/ckpt/a.ckpt");
  WriteScript script;
  for (const Action& act : h.last)
    if (auto* s = std::get_if<WriteScript>(&act)) script = *s;
  EXPECT_NE(script.text.find("/ckpt/child.ckpt"), std::string::npos);
  EXPECT_EQ(single_reply(h.c.script_written(1, "", h.now), cmd).header.status, 0);
}

TEST(CoordinatorStateMachine, FailedMessageAbortsAndNamesTheProcess) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.program = "solver", .pid = 77, .host = "node2"});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  h.reached(a, Barrier::Suspended, 1);
  h.reached(b, Barrier::Suspended, 1);
  auto out = h.failed(b, 1, "write /dir/x: No space left on device\n");
  EXPECT_EQ(sends(out, a, MsgType::Abort).size(), 1u);
  EXPECT_EQ(sends(out, b, MsgType::Abort).size(), 1u);
  const Send reply = single_reply(out, cmd);
  EXPECT_EQ(reply.header.status, ENOSPC);
  EXPECT_EQ(reply.payload,
            "checkpoint 1 failed: process 2 (solver, pid 77 on node2) reported: write /dir/x: No space left on device");
  // The checkpoint is over: late barrier answers change nothing.
  EXPECT_TRUE(sends(h.reached(a, Barrier::Drained, 1), a, MsgType::Advance).empty());
}

TEST(CoordinatorStateMachine, WarningsReachTheCommandAndTheStatusNamingTheProcess) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.program = "server", .pid = 4242});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  for (Barrier barrier : {Barrier::Suspended, Barrier::Drained}) {
    h.reached(a, barrier, 1);
    if (barrier == Barrier::Drained)
      h.msg(b, proto::make_header(MsgType::Warning, 31, 1), "fd 7 (an eventfd) was not saved");
    h.reached(b, barrier, 1);
  }
  // A warning for another generation belongs to no checkpoint.
  h.msg(a, proto::make_header(MsgType::Warning, 5, 9), "stale");
  for (Barrier barrier : {Barrier::Checkpointed, Barrier::Refilled})
    for (ClientId w : {a, b}) h.reached(w, barrier, 1);
  h.written(a, 1, "/ckpt/a.ckpt");
  h.written(b, 1, "/ckpt/b.ckpt");
  const Send reply = single_reply(h.c.script_written(1, "", h.now), cmd);
  EXPECT_EQ(reply.header.status, 0);
  EXPECT_NE(reply.payload.find("\"warnings\":[\"process 2 (server, pid 4242 on node1): fd 7 (an eventfd) was not saved\"]"),
            std::string::npos)
      << reply.payload;
  EXPECT_EQ(reply.payload.find("stale"), std::string::npos);
  const ClientId st = h.command(MsgType::CmdStatus);
  const std::string status = single_reply(h.last, st).payload;
  EXPECT_NE(status.find("fd 7 (an eventfd) was not saved"), std::string::npos) << status;
}

TEST(CoordinatorStateMachine, DisconnectMidBarrierFailsCheckpoint) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 5});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  h.reached(a, Barrier::Suspended, 1);
  h.reached(b, Barrier::Suspended, 1);
  h.reached(a, Barrier::Drained, 1);
  auto out = h.disconnect(b);
  EXPECT_EQ(sends(out, a, MsgType::Abort).size(), 1u);
  EXPECT_TRUE(sends(out, b, MsgType::Abort).empty());
  const Send reply = single_reply(out, cmd);
  EXPECT_NE(reply.header.status, 0);
  EXPECT_EQ(reply.payload, "checkpoint 1 failed: process 2 (sim, pid 5 on node1) disconnected before reaching DRAINED");
}

TEST(CoordinatorStateMachine, BarrierTimeoutFailsCheckpoint) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 4243});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  h.reached(a, Barrier::Suspended, 1);
  const Actions armed = h.reached(b, Barrier::Suspended, 1);
  h.reached(a, Barrier::Drained, 1);
  auto out = h.fire(TimerKind::CheckpointBarrier, armed);
  EXPECT_EQ(sends(out, a, MsgType::Abort).size(), 1u);
  EXPECT_EQ(sends(out, b, MsgType::Abort).size(), 1u);
  const Send reply = single_reply(out, cmd);
  EXPECT_EQ(reply.header.status, ETIMEDOUT);
  EXPECT_EQ(reply.payload, "checkpoint 1 failed: process 2 (sim, pid 4243 on node1) did not reach DRAINED within 60 s");
}

TEST(CoordinatorStateMachine, StaleTimerIsIgnored) {
  Harness h;
  const ClientId a = h.worker();
  h.command(MsgType::CmdCheckpoint);
  const Actions armed = h.last;
  h.reached(a, Barrier::Suspended, 1);  // re-arms the barrier timer with a new token
  auto out = h.fire(TimerKind::CheckpointBarrier, armed);
  EXPECT_TRUE(sends(out, a, MsgType::Abort).empty());
}

TEST(CoordinatorStateMachine, WrittenTimeoutNamesTheSlowWriter) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  for (Barrier b : {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed}) h.reached(a, b, 1);
  const Actions armed = h.reached(a, Barrier::Refilled, 1);
  auto out = h.fire(TimerKind::CheckpointBarrier, armed);
  EXPECT_EQ(single_reply(out, cmd).payload,
            "checkpoint 1 failed: process 1 (sim, pid 4242 on node1) did not finish writing its image within 60 s");
}

TEST(CoordinatorStateMachine, LateJoinerWaitsForNextCheckpoint) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  h.reached(a, Barrier::Suspended, 1);
  const ClientId late = h.worker({.pid = 9});
  EXPECT_TRUE(sends(h.last, late, MsgType::Advance).empty());
  const WriteScript s = h.run_to_script({a}, 1);
  EXPECT_EQ(s.text.find("img_" + std::to_string(late)), std::string::npos);
  auto done = h.c.script_written(1, "", h.now);
  EXPECT_EQ(single_reply(done, cmd).header.status, 0);
  EXPECT_TRUE(sends(done, late, MsgType::Committed).empty());

  // The next checkpoint includes it.
  h.command(MsgType::CmdCheckpoint);
  EXPECT_TRUE(has_advance(h.last, late, Barrier::Suspended));
  EXPECT_TRUE(has_advance(h.last, a, Barrier::Suspended));
}

TEST(CoordinatorStateMachine, HelloWhileSuspendingJoinsTheCheckpoint) {
  // A parent forks while the computation suspends: it reaches SUSPENDED only
  // after its child registered, and the child must be in the same checkpoint.
  Harness h;
  const ClientId a = h.worker(), parent = h.worker({.pid = 5});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  h.reached(a, Barrier::Suspended, 1);
  const ClientId child = h.worker({.pid = 6});
  EXPECT_EQ(sends(h.last, child, MsgType::Welcome).size(), 1u);
  ASSERT_TRUE(has_advance(h.last, child, Barrier::Suspended));
  proto::AdvancePayload p;
  std::memcpy(&p, sends(h.last, child, MsgType::Advance).at(0).payload.data(), sizeof p);
  EXPECT_EQ(p.computation_size, 3u);

  // The barrier now waits for the child as well.
  EXPECT_FALSE(has_advance(h.reached(parent, Barrier::Suspended, 1), a, Barrier::Drained));
  const Actions next = h.reached(child, Barrier::Suspended, 1);
  for (ClientId w : {a, parent, child}) {
    ASSERT_TRUE(has_advance(next, w, Barrier::Drained));
    std::memcpy(&p, sends(next, w, MsgType::Advance).at(0).payload.data(), sizeof p);
    EXPECT_EQ(p.computation_size, 3u) << "later barriers tell everybody the final size";
  }
  for (Barrier b : {Barrier::Drained, Barrier::Checkpointed, Barrier::Refilled})
    for (ClientId w : {a, parent, child}) h.reached(w, b, 1);
  for (ClientId w : {a, parent}) h.written(w, 1, "/ckpt/img_" + std::to_string(w) + ".ckpt");
  EXPECT_FALSE(has<WriteScript>(h.last)) << "the child's image is still missing";
  h.written(child, 1, "/ckpt/img_" + std::to_string(child) + ".ckpt");
  WriteScript script;
  for (const Action& act : h.last)
    if (auto* s = std::get_if<WriteScript>(&act)) script = *s;
  EXPECT_NE(script.text.find("img_" + std::to_string(child)), std::string::npos);
  auto done = h.c.script_written(1, "", h.now);
  EXPECT_EQ(single_reply(done, cmd).header.status, 0);
  EXPECT_EQ(sends(done, child, MsgType::Committed).size(), 1u);
}

TEST(CoordinatorStateMachine, ProcessExitingBeforeSuspendedFailsTheGenerationAndARetryCommitsWithoutIt) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId child = h.worker({.pid = 6});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  h.reached(a, Barrier::Suspended, 1);
  auto out = h.disconnect(child);
  EXPECT_EQ(sends(out, a, MsgType::Abort).at(0).header.generation, 1u) << "a's frozen view still has the child";
  EXPECT_TRUE(sends(out, cmd, MsgType::CmdReply).empty()) << "the retry answers";
  auto adv = sends(out, a, MsgType::Advance);
  ASSERT_EQ(adv.size(), 1u);
  EXPECT_EQ(adv[0].header.generation, 2u) << "a new generation, never the failed one again";
  EXPECT_EQ(adv[0].header.arg, static_cast<uint64_t>(Barrier::Suspended));
  const WriteScript s = h.run_to_script({a}, 2);
  EXPECT_EQ(s.text.find("img_" + std::to_string(child)), std::string::npos);
  const Send reply = single_reply(h.c.script_written(2, "", h.now), cmd);
  EXPECT_EQ(reply.header.status, 0);
  EXPECT_NE(reply.payload.find("checkpoint 1 failed: process 2 (sim, pid 6 on node1) exited before suspending; "
                               "retried as checkpoint 2"),
            std::string::npos)
      << reply.payload;
}

TEST(CoordinatorStateMachine, ProcessesThatKeepExitingBeforeSuspendingFailTheCheckpointAfterThreeTries) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  for (int pid = 6; pid < 8; ++pid) {
    const ClientId child = h.worker({.pid = pid});  // joins the checkpoint while it suspends
    EXPECT_TRUE(sends(h.disconnect(child), cmd, MsgType::CmdReply).empty());
  }
  const ClientId last = h.worker({.pid = 8});
  const Send reply = single_reply(h.disconnect(last), cmd);
  EXPECT_NE(reply.header.status, 0);
  EXPECT_EQ(reply.payload, "checkpoint 3 failed: process 4 (sim, pid 8 on node1) exited before suspending");
  EXPECT_FALSE(has_advance(h.last, a, Barrier::Suspended));
}

TEST(CoordinatorStateMachine, CheckpointFailsWhenEveryProcessExitsBeforeSuspending) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  auto out = h.disconnect(a);
  EXPECT_EQ(single_reply(out, cmd).payload, "checkpoint 1 failed: every process exited before suspending");
}

TEST(CoordinatorStateMachine, ExecRenamesTheWorker) {
  Harness h;
  const ClientId a = h.worker({.program = "sh"});
  proto::ExecPayload e{};
  std::strncpy(e.progname, "python3", sizeof e.progname - 1);
  h.msg(a, proto::make_header(MsgType::Exec, sizeof e), Harness::bytes(e));
  const ClientId cmd = h.command(MsgType::CmdList);
  const std::string list = single_reply(h.last, cmd).payload;
  EXPECT_NE(list.find("\"program\":\"python3\""), std::string::npos) << list;
  EXPECT_EQ(list.find("\"sh\""), std::string::npos) << list;
  EXPECT_NE(list.find("\"id\":1"), std::string::npos) << "still the same worker";
}

TEST(CoordinatorStateMachine, MessagesForWrongGenerationAreIgnored) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  EXPECT_FALSE(has_advance(h.reached(a, Barrier::Suspended, 7), a, Barrier::Drained));
  EXPECT_TRUE(sends(h.failed(a, 7, "stale"), cmd, MsgType::CmdReply).empty());
  EXPECT_TRUE(has_advance(h.reached(a, Barrier::Suspended, 1), a, Barrier::Drained));
}

TEST(CoordinatorStateMachine, FailedGenerationIsNotReused) {
  Harness h;
  const ClientId a = h.worker();
  h.command(MsgType::CmdCheckpoint);
  h.failed(a, 1, "boom");
  h.command(MsgType::CmdCheckpoint);
  EXPECT_EQ(sends(h.last, a, MsgType::Advance).at(0).header.generation, 2u);
  h.run_to_script({a}, 2);
  EXPECT_EQ(sends(h.c.script_written(2, "", h.now), a, MsgType::Committed).at(0).header.generation, 2u);
  EXPECT_EQ(h.c.generation(), 2u);
}

TEST(CoordinatorStateMachine, NewCoordinatorContinuesTheGenerationsOfTheProcessesThatJoinIt) {
  Harness h;
  proto::HelloPayload hello{};
  hello.real_pid = hello.virt_pid = 10;
  hello.generation = 7;  // what the process wrote last, under the coordinator that died
  std::strcpy(hello.progname, "sim");
  const ClientId a = h.connect();
  h.msg(a, proto::make_header(MsgType::Hello, sizeof hello, 7), std::string(reinterpret_cast<const char*>(&hello), sizeof hello));
  h.command(MsgType::CmdCheckpoint);
  auto adv = sends(h.last, a, MsgType::Advance);
  ASSERT_EQ(adv.size(), 1u);
  EXPECT_EQ(adv[0].header.generation, 8u);
}

TEST(CoordinatorStateMachine, OneComputationPerCoordinator) {
  Config config = Harness::default_config();
  config.computation_id = 0x1234;
  Harness h(config);
  auto hello_of = [](int pid, uint64_t computation) {
    proto::HelloPayload hello{};
    hello.real_pid = hello.virt_pid = pid;
    hello.computation_id = computation;
    std::strcpy(hello.progname, "sim");
    return std::string(reinterpret_cast<const char*>(&hello), sizeof hello);
  };
  auto welcomed_into = [&](const Actions& actions, ClientId c) -> uint64_t {
    const auto w = sends(actions, c, MsgType::Welcome);
    if (w.size() != 1 || w[0].payload.size() != sizeof(proto::WelcomePayload)) return 0;
    proto::WelcomePayload p;
    std::memcpy(&p, w[0].payload.data(), sizeof p);
    return p.computation_id;
  };
  // New processes take the coordinator's id; one that knows it is welcome.
  const ClientId a = h.connect();
  h.msg(a, proto::make_header(MsgType::Hello, sizeof(proto::HelloPayload)), hello_of(10, 0));
  EXPECT_EQ(welcomed_into(h.last, a), 0x1234u);
  const ClientId b = h.connect();
  h.msg(b, proto::make_header(MsgType::Hello, sizeof(proto::HelloPayload)), hello_of(11, 0x1234));
  EXPECT_EQ(welcomed_into(h.last, b), 0x1234u);
  // Another computation's process (restored from its images) is refused.
  const ClientId c = h.connect();
  h.msg(c, proto::make_header(MsgType::Hello, sizeof(proto::HelloPayload)), hello_of(12, 0x9999));
  EXPECT_TRUE(has<Close>(h.last));
  EXPECT_TRUE(logged(h.last, LogLevel::Error, "belongs to computation 0000000000009999"));
  EXPECT_EQ(h.c.worker_count(), 2u);

  // A coordinator started for a restart takes the id the images bring.
  Harness fresh(config);
  const ClientId r = fresh.connect();
  fresh.msg(r, proto::make_header(MsgType::Hello, sizeof(proto::HelloPayload)), hello_of(10, 0x9999));
  EXPECT_EQ(welcomed_into(fresh.last, r), 0x9999u);
  EXPECT_EQ(fresh.c.computation_id(), 0x9999u);
}

TEST(CoordinatorStateMachine, GenerationNumbersNeverWrapRound) {
  Harness h;
  proto::HelloPayload hello{};
  hello.real_pid = hello.virt_pid = 10;
  hello.generation = ~uint64_t{0};  // one more would be 0 again
  std::strcpy(hello.progname, "sim");
  const ClientId a = h.connect();
  h.msg(a, proto::make_header(MsgType::Hello, sizeof hello), std::string(reinterpret_cast<const char*>(&hello), sizeof hello));
  EXPECT_TRUE(has<Close>(h.last)) << "a process reporting an impossible generation was taken";
  EXPECT_TRUE(logged(h.last, LogLevel::Error, "beyond the largest ckpt uses"));
  EXPECT_EQ(h.c.generation(), 0u);

  hello.generation = proto::kMaxGeneration;  // the last one there may be
  const ClientId b = h.connect();
  h.msg(b, proto::make_header(MsgType::Hello, sizeof hello), std::string(reinterpret_cast<const char*>(&hello), sizeof hello));
  EXPECT_FALSE(has<Close>(h.last));
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  EXPECT_TRUE(sends(h.last, b, MsgType::Advance).empty()) << "a checkpoint was numbered past the largest generation";
  const auto reply = sends(h.last, cmd, MsgType::CmdReply);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].header.status, EOVERFLOW);
  EXPECT_NE(reply[0].payload.find("generation numbers are used up"), std::string::npos) << reply[0].payload;
}

// The generations a Committed message says are kept.
std::vector<uint64_t> kept_in(const Actions& actions, ClientId to) {
  const auto committed = sends(actions, to, MsgType::Committed);
  if (committed.size() != 1) return {};
  std::vector<uint64_t> kept(committed[0].header.arg);
  std::memcpy(kept.data(), committed[0].payload.data(), std::min(committed[0].payload.size(), kept.size() * 8));
  return kept;
}

std::vector<std::string> removed_in(const Actions& actions) {
  std::vector<std::string> paths;
  for (const Action& a : actions)
    if (auto* r = std::get_if<RemoveFiles>(&a)) paths.insert(paths.end(), r->paths.begin(), r->paths.end());
  return paths;
}

// One checkpoint of `workers` from the request to the commit; the commit's actions.
Actions commit_checkpoint(Harness& h, const std::vector<ClientId>& workers) {
  h.command(MsgType::CmdCheckpoint);
  const uint64_t generation = sends(h.last, workers.at(0), MsgType::Advance).at(0).header.generation;
  h.run_to_script(workers, generation);
  return h.c.script_written(generation, "", h.now);
}

using Paths = std::vector<std::string>;
using Generations = std::vector<uint64_t>;

TEST(CoordinatorStateMachine, KeepRemovesOlderGenerationsScriptsAndTellsTheProcessesWhatIsKept) {
  for (unsigned keep : {1u, 2u, 3u}) {
    Config cfg = Harness::default_config();
    cfg.keep = keep;
    Harness h(cfg);
    const ClientId a = h.worker();
    Generations expected;
    for (uint64_t g = 1; g <= 4; ++g) {
      const Actions done = commit_checkpoint(h, {a});
      expected.push_back(g);
      Paths removed;
      if (expected.size() > keep) {
        removed.push_back("/ckpt/ckpt_restart_g" + std::to_string(expected.front()) + ".sh");
        expected.erase(expected.begin());
      }
      EXPECT_EQ(kept_in(done, a), expected) << "keep " << keep << ", generation " << g;
      EXPECT_EQ(removed_in(done), removed) << "keep " << keep << ", generation " << g;
    }
  }
}

TEST(CoordinatorStateMachine, GenerationRestartedFromGoesOnlyOnceKeepNewerOnesAreCommitted) {
  Harness h;  // keep 2
  const ClientId a = h.worker({.restart = true, .computation_size = 1, .generation = 5});
  h.reached(a, Barrier::Restarted, 5);
  h.reached(a, Barrier::Refilled, 5);
  Actions done = commit_checkpoint(h, {a});
  EXPECT_EQ(kept_in(done, a), (Generations{5, 6}));
  EXPECT_TRUE(removed_in(done).empty());
  done = commit_checkpoint(h, {a});
  EXPECT_EQ(kept_in(done, a), (Generations{6, 7}));
  EXPECT_EQ(removed_in(done), Paths{"/ckpt/ckpt_restart_g5.sh"});
}

TEST(CoordinatorStateMachine, NewCoordinatorNumbersPastEveryGenerationInItsDirectory) {
  Config cfg = Harness::default_config();
  cfg.scan = [](const std::string& dir) {
    EXPECT_EQ(dir, "/ckpt");
    return DirGenerations{9, {{7, {}}, {8, {}}}};  // and an image of generation 9 that never committed
  };
  Harness h(cfg);
  const ClientId a = h.worker();  // a fresh process: it never checkpointed
  const Actions done = commit_checkpoint(h, {a});
  EXPECT_EQ(sends(done, a, MsgType::Committed).at(0).header.generation, 10u);
  EXPECT_EQ(kept_in(done, a), Generations{10});
  EXPECT_TRUE(removed_in(done).empty()) << "another computation's generations are not ours to remove";
}

TEST(CoordinatorStateMachine, NewCoordinatorKeepsTheCommittedGenerationsOfTheProcessesThatJoinIt) {
  Config cfg = Harness::default_config();
  // Generation 3 was under way when the old coordinator died: images, no script.
  cfg.scan = [](const std::string&) {
    return DirGenerations{3, {{1, {"/ckpt/ckpt_sim_ab_g1.ckpt", "/etc/passwd", "/ckpt/ckpt_sim_ab_g2.ckpt"}}, {2, {}}}};
  };
  Harness h(cfg);
  const ClientId a = h.worker({.generation = 3});
  const Actions done = commit_checkpoint(h, {a});
  EXPECT_EQ(sends(done, a, MsgType::Committed).at(0).header.generation, 4u);
  EXPECT_EQ(kept_in(done, a), (Generations{2, 4})) << "generation 3's images go with the process's next commit";
  EXPECT_EQ(removed_in(done), (Paths{"/ckpt/ckpt_restart_g1.sh", "/ckpt/ckpt_sim_ab_g1.ckpt"}))
      << "the images generation 1's script names, of processes gone since, but only images of generation 1";
}

TEST(CoordinatorStateMachine, RestartingAnOlderGenerationAbandonsTheNewerOnes) {
  Config cfg = Harness::default_config();
  cfg.scan = [](const std::string&) { return DirGenerations{3, {{1, {}}, {2, {}}, {3, {}}}}; };
  Harness h(cfg);
  const ClientId a = h.worker({.restart = true, .computation_size = 1, .generation = 2});
  h.reached(a, Barrier::Restarted, 2);
  h.reached(a, Barrier::Refilled, 2);
  const Actions done = commit_checkpoint(h, {a});
  EXPECT_EQ(sends(done, a, MsgType::Committed).at(0).header.generation, 4u);
  EXPECT_EQ(kept_in(done, a), (Generations{2, 4}));
  EXPECT_EQ(removed_in(done), (Paths{"/ckpt/ckpt_restart_g3.sh", "/ckpt/ckpt_restart_g1.sh"}));
}

TEST(CoordinatorStateMachine, RestartingAnOlderGenerationUnderTheSameCoordinatorAbandonsTheNewerOnes) {
  Config cfg = Harness::default_config();
  cfg.keep = 3;
  Harness h(cfg);
  const ClientId a = h.worker();
  for (int i = 0; i < 3; ++i) commit_checkpoint(h, {a});
  h.disconnect(a);
  const ClientId b = h.worker({.restart = true, .computation_size = 1, .generation = 2});
  h.reached(b, Barrier::Restarted, 2);
  h.reached(b, Barrier::Refilled, 2);
  const Actions done = commit_checkpoint(h, {b});
  EXPECT_EQ(sends(done, b, MsgType::Committed).at(0).header.generation, 4u);
  EXPECT_EQ(kept_in(done, b), (Generations{1, 2, 4}));
  EXPECT_EQ(removed_in(done), Paths{"/ckpt/ckpt_restart_g3.sh"});
}

TEST(CoordinatorStateMachine, ControlCharactersFromPeersForgeNoLogLine) {
  Harness h;
  proto::HelloPayload hello{};
  hello.real_pid = hello.virt_pid = 10;
  std::strcpy(hello.progname, "sim\n2026-01-01 ERROR: forged");
  const ClientId a = h.connect();
  auto out = h.msg(a, proto::make_header(MsgType::Hello, sizeof hello), std::string(reinterpret_cast<const char*>(&hello), sizeof hello));
  h.command(MsgType::CmdCheckpoint);
  out = h.failed(a, 1, "bad\x1b[2Jthing");
  for (const Action& act : out)
    if (auto* l = std::get_if<Log>(&act)) {
      EXPECT_EQ(l->text.find('\n'), std::string::npos) << l->text;
      EXPECT_EQ(l->text.find('\x1b'), std::string::npos) << l->text;
    }
  const ClientId ls = h.command(MsgType::CmdList);
  EXPECT_NE(single_reply(h.last, ls).payload.find("sim?2026-01-01 ERROR: forged"), std::string::npos);
}

TEST(CoordinatorStateMachine, ScriptGoesNextToFirstImageWithoutCkptdir) {
  Config cfg = Harness::default_config();
  cfg.ckptdir.clear();
  Harness h(cfg);
  const ClientId a = h.worker();
  h.command(MsgType::CmdCheckpoint);
  proto::AdvancePayload p;
  std::memcpy(&p, sends(h.last, a, MsgType::Advance).at(0).payload.data(), sizeof p);
  EXPECT_STREQ(p.ckptdir, "") << "workers keep their own directory";
  const WriteScript s = h.run_to_script({a}, 1);
  EXPECT_EQ(s.path, "/ckpt/ckpt_restart_g1.sh");
  EXPECT_EQ(s.latest_path, "/ckpt/ckpt_restart_script.sh");
}

TEST(CoordinatorStateMachine, ScriptWriteFailureFailsCheckpoint) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  h.run_to_script({a}, 1);
  auto out = h.c.script_written(1, "write /ckpt/ckpt_restart_script.sh.x: No space left on device", h.now);
  EXPECT_EQ(sends(out, a, MsgType::Abort).size(), 1u);
  EXPECT_TRUE(sends(out, a, MsgType::Committed).empty());
  EXPECT_EQ(single_reply(out, cmd).payload,
            "checkpoint 1 failed: restart script: write /ckpt/ckpt_restart_script.sh.x: No space left on device");
}

TEST(CoordinatorStateMachine, ScriptUsesLocalhostOnlyWhenAllWorkersAreLocal) {
  Harness h;
  const ClientId a = h.worker();
  h.command(MsgType::CmdCheckpoint);
  EXPECT_NE(h.run_to_script({a}, 1).text.find("coord_host='localhost'"), std::string::npos);
  h.c.script_written(1, "", h.now);
  const ClientId b = h.worker({.host = "node7"});
  h.command(MsgType::CmdCheckpoint);
  EXPECT_NE(h.run_to_script({a, b}, 2).text.find("coord_host='node1'"), std::string::npos);
}

TEST(CoordinatorStateMachine, SecondCommandJoinsCheckpointInProgress) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId c1 = h.command(MsgType::CmdCheckpoint);
  const ClientId c2 = h.command(MsgType::CmdCheckpoint);
  EXPECT_TRUE(sends(h.last, a, MsgType::Advance).empty()) << "no second round while one runs";
  h.run_to_script({a}, 1);
  auto done = h.c.script_written(1, "", h.now);
  EXPECT_EQ(single_reply(done, c1).header.status, 0);
  EXPECT_EQ(single_reply(done, c2).header.status, 0);
}

TEST(CoordinatorStateMachine, CheckpointWithoutWorkersFails) {
  Harness h;
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  const Send reply = single_reply(h.last, cmd);
  EXPECT_NE(reply.header.status, 0);
  EXPECT_EQ(reply.payload, "cannot checkpoint: no processes connected");
}

// Figures as libckpt's image writer reports them (checkpoint_stats.h).
stats::WrittenFigures figures(uint64_t written_pages, uint64_t zero_pages) {
  stats::WrittenFigures f{};
  f.version = stats::kVersion;
  f.image.pages_written = written_pages;
  f.image.pages_skipped_zero = zero_pages;
  f.image.pages_scanned = written_pages + zero_pages;
  f.image.bytes_raw = written_pages * stats::kPageSize;
  f.image.bytes_compressed = f.image.bytes_raw / 2;
  f.image.write_ns = 8'000'000;
  f.sync_ns = 1'000'000;
  return f;
}

Actions written_with(Harness& h, ClientId id, const std::string& path, const stats::WrittenFigures& f) {
  proto::WrittenPayload w{};
  w.image_size = 1000;
  std::strncpy(w.image_path, path.c_str(), sizeof w.image_path - 1);
  w.figures = f;
  return h.msg(id, proto::make_header(MsgType::Reached, sizeof w, 1, static_cast<uint64_t>(Barrier::Written)),
               Harness::bytes(w));
}

Actions refilled_with(Harness& h, ClientId id, uint64_t pause_ns) {
  const stats::RefilledFigures f{stats::kVersion, 0, pause_ns};
  return h.msg(id, proto::make_header(MsgType::Reached, sizeof f, 1, static_cast<uint64_t>(Barrier::Refilled)),
               Harness::bytes(f));
}

cli::Json reply_json(const Actions& actions, ClientId cmd) {
  return cli::Json::parse(single_reply(actions, cmd).payload);
}

TEST(CoordinatorStateMachine, CheckpointReplyCarriesEachProcessFiguresAndTheirTotals) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.program = "solver", .pid = 77});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  h.now += 5ms;
  h.reached(a, Barrier::Suspended, 1);
  h.now += 2ms;
  h.reached(b, Barrier::Suspended, 1);  // every process frozen 7 ms after the request
  for (Barrier x : {Barrier::Drained, Barrier::Checkpointed})
    for (ClientId w : {a, b}) h.reached(w, x, 1);
  written_with(h, a, "/ckpt/a.ckpt", figures(10, 5));
  refilled_with(h, a, 3'000'000);
  refilled_with(h, b, 9'000'000);
  EXPECT_TRUE(has<WriteScript>(written_with(h, b, "/ckpt/b.ckpt", figures(20, 0))));
  const cli::Json r = reply_json(h.c.script_written(1, "", h.now), cmd);
  const cli::Json& st = r["stats"];
  EXPECT_DOUBLE_EQ(st["freeze_ms"].get<double>(), 7.0);
  EXPECT_DOUBLE_EQ(st["pause_ms"].get<double>(), 9.0) << "the longest pause";
  EXPECT_EQ(st["totals"]["pages_written"], 30u);
  EXPECT_EQ(st["totals"]["pages_skipped_zero"], 5u);
  EXPECT_EQ(st["totals"]["pages_scanned"], 35u);
  EXPECT_EQ(st["totals"]["bytes_raw"], 30u * 4096);
  EXPECT_EQ(st["totals"]["processes_reporting"], 2u);
  ASSERT_EQ(st["processes"].size(), 2u);
  for (const cli::Json& p : st["processes"]) {
    if (p["program"] == "solver") {
      EXPECT_EQ(p["pid"], 77);
      EXPECT_EQ(p["image"], "/ckpt/b.ckpt");
      EXPECT_EQ(p["pages_written"], 20u);
      EXPECT_DOUBLE_EQ(p["pause_ms"].get<double>(), 9.0);
    } else {
      EXPECT_EQ(p["image"], "/ckpt/a.ckpt");
      EXPECT_DOUBLE_EQ(p["pause_ms"].get<double>(), 3.0);
    }
  }
  // ckpt_command --status shows the same figures afterwards.
  const ClientId status = h.command(MsgType::CmdStatus);
  EXPECT_EQ(reply_json(h.last, status)["last_checkpoint"]["stats"]["totals"]["pages_written"], 30u);
}

TEST(CoordinatorStateMachine, FiguresThatCannotBeTrueAreIgnoredAndTheCheckpointCommits) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  for (Barrier x : {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed}) h.reached(a, x, 1);
  stats::WrittenFigures lie = figures(10, 5);
  lie.image.pages_written = 1000;  // more than it scanned
  written_with(h, a, "/ckpt/a.ckpt", lie);
  EXPECT_TRUE(
      logged(h.last, LogLevel::Warn, "ignoring its checkpoint figures: the pages written and skipped do not add up"));
  const std::string bad_pause(3, 'x');  // shorter than RefilledFigures
  h.msg(a, proto::make_header(MsgType::Reached, 3, 1, static_cast<uint64_t>(Barrier::Refilled)), bad_pause);
  EXPECT_TRUE(logged(h.last, LogLevel::Warn, "ignoring its pause"));
  EXPECT_TRUE(has<WriteScript>(h.last));
  const cli::Json r = reply_json(h.c.script_written(1, "", h.now), cmd);
  EXPECT_EQ(r["stats"]["totals"]["processes_reporting"], 0u);
  EXPECT_TRUE(r["stats"]["pause_ms"].is_null());
  EXPECT_TRUE(r["stats"]["processes"][0]["pause_ms"].is_null());
}

TEST(CoordinatorStateMachine, WorkerWithoutFiguresStillCommits) {
  // A libckpt older than the figures: the payloads end before them.
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  for (Barrier x : {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed, Barrier::Refilled}) h.reached(a, x, 1);
  const size_t old_size = offsetof(proto::WrittenPayload, figures);
  proto::WrittenPayload w{};
  std::strcpy(w.image_path, "/ckpt/a.ckpt");
  EXPECT_TRUE(has<WriteScript>(h.msg(
      a, proto::make_header(MsgType::Reached, old_size, 1, static_cast<uint64_t>(Barrier::Written)),
      Harness::bytes(w).substr(0, old_size))));
  EXPECT_FALSE(logged(h.last, LogLevel::Warn, "ignoring"));
  const cli::Json r = reply_json(h.c.script_written(1, "", h.now), cmd);
  EXPECT_EQ(r["stats"]["processes"][0]["image"], "/ckpt/a.ckpt");
  EXPECT_FALSE(r["stats"]["processes"][0].contains("pages_written"));
}

// Two processes restored from generation 5 answer REFILLED with `first`
// and `second`; returns ckpt_command --status's last_restart.
cli::Json restart_of_two(Harness& h, const stats::RestartFigures& first, const stats::RestartFigures& second) {
  const WorkerSpec r{.restart = true, .computation_size = 2, .generation = 5};
  const ClientId a = h.worker(r), b = h.worker(r);
  for (ClientId w : {a, b}) h.reached(w, Barrier::Restarted, 5);
  h.msg(a, proto::make_header(MsgType::Reached, sizeof first, 5, static_cast<uint64_t>(Barrier::Refilled)),
        Harness::bytes(first));
  h.msg(b, proto::make_header(MsgType::Reached, sizeof second, 5, static_cast<uint64_t>(Barrier::Refilled)),
        Harness::bytes(second));
  const Actions complete = h.last;
  const ClientId status = h.command(MsgType::CmdStatus);
  const cli::Json last = reply_json(h.last, status)["last_restart"];
  h.last = complete;
  return last;
}

TEST(CoordinatorStateMachine, RestartReportsTimeToRunningOfTheSlowestProcess) {
  Harness h;
  const cli::Json last =
      restart_of_two(h, {stats::kVersion, 0, 40'000'000}, {stats::kVersion, 0, 75'500'000});
  EXPECT_TRUE(logged(h.last, LogLevel::Info,
                     "restart of generation 5 complete: 2 processes running; running 75.5 ms after ckpt_restart "
                     "started, memory fully loaded"));
  EXPECT_DOUBLE_EQ(last["running_ms"].get<double>(), 75.5);
  EXPECT_DOUBLE_EQ(last["loaded_ms"].get<double>(), 75.5);
  EXPECT_EQ(last["lazy"], false);
}

TEST(CoordinatorStateMachine, LazyRestartIsNotFullyLoadedWhenItRuns) {
  Harness h;
  // The second's "lazy" is neither 0 nor 1: refused.
  const cli::Json last = restart_of_two(h, {stats::kVersion, 1, 10'000'000}, {stats::kVersion, 7, 10'000'000});
  EXPECT_TRUE(logged(h.last, LogLevel::Warn, "ignoring its restart figures"));
  EXPECT_TRUE(logged(h.last, LogLevel::Info, "restart of generation 5 complete: 2 processes running"));
  EXPECT_TRUE(last["running_ms"].is_null()) << "one process's figure was refused: no total";
  EXPECT_TRUE(last["loaded_ms"].is_null());
  EXPECT_EQ(last["lazy"], true);
}

TEST(CoordinatorStateMachine, WorkerRequestStartsCheckpoint) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker();
  h.msg(a, proto::make_header(MsgType::RequestCheckpoint));
  EXPECT_TRUE(has_advance(h.last, a, Barrier::Suspended));
  EXPECT_TRUE(has_advance(h.last, b, Barrier::Suspended));
}

TEST(CoordinatorStateMachine, RestartWaitsForComputationSize) {
  Harness h;
  const WorkerSpec r{.restart = true, .computation_size = 2, .generation = 5};
  const ClientId a = h.worker(r);
  EXPECT_TRUE(sends(h.last, a, MsgType::Advance).empty());
  const ClientId b = h.worker(r);
  for (ClientId w : {a, b}) {
    auto adv = sends(h.last, w, MsgType::Advance);
    ASSERT_EQ(adv.size(), 1u);
    EXPECT_EQ(adv[0].header.arg, static_cast<uint64_t>(Barrier::Restarted));
    EXPECT_EQ(adv[0].header.generation, 5u);
  }
  h.reached(a, Barrier::Restarted, 5);
  EXPECT_FALSE(has_advance(h.last, a, Barrier::Refilled));
  h.reached(b, Barrier::Restarted, 5);
  EXPECT_TRUE(has_advance(h.last, a, Barrier::Refilled));
  EXPECT_TRUE(has_advance(h.last, b, Barrier::Refilled));
  h.reached(a, Barrier::Refilled, 5);
  h.reached(b, Barrier::Refilled, 5);
  EXPECT_TRUE(logged(h.last, LogLevel::Info, "restart of generation 5 complete"));

  // The generation restored from is adopted: new images never overwrite it.
  h.command(MsgType::CmdCheckpoint);
  EXPECT_EQ(sends(h.last, a, MsgType::Advance).at(0).header.generation, 6u);
}

TEST(CoordinatorStateMachine, ScriptNamesEachImagesHostWhenProcessesRanOnSeveralHosts) {
  Harness h;
  const ClientId a = h.worker({.host = "node1"}), b = h.worker({.host = "node2"});
  h.command(MsgType::CmdCheckpoint);
  const WriteScript script = h.run_to_script({a, b}, 1);
  EXPECT_NE(script.text.find("'node1:/ckpt/img_" + std::to_string(a) + ".ckpt'"), std::string::npos) << script.text;
  EXPECT_NE(script.text.find("'node2:/ckpt/img_" + std::to_string(b) + ".ckpt'"), std::string::npos) << script.text;
  EXPECT_NE(script.text.find("coord_host='node1'"), std::string::npos) << script.text;

  Harness one;
  const ClientId c = one.worker({.host = "node7"}), d = one.worker({.host = "node7"});
  one.command(MsgType::CmdCheckpoint);
  const WriteScript local = one.run_to_script({c, d}, 1);
  EXPECT_NE(local.text.find("  '/ckpt/img_" + std::to_string(c) + ".ckpt'"), std::string::npos) << local.text;
}

TEST(CoordinatorStateMachine, RestartGatherTimeoutKillsAnIncompleteComputation) {
  Harness h;
  const ClientId a = h.worker({.host = "node1", .restart = true, .computation_size = 3, .generation = 2});
  const Actions armed = h.last;
  const ClientId b = h.worker({.host = "node2", .restart = true, .computation_size = 3, .generation = 2});
  auto out = h.fire(TimerKind::Restart, armed);
  EXPECT_TRUE(logged(out, LogLevel::Error, "only 2 of 3 processes rejoined within 60 s (from node1, node2)"));
  EXPECT_FALSE(has_advance(out, a, Barrier::Restarted));
  EXPECT_EQ(sends(out, a, MsgType::Kill).size(), 1u);
  EXPECT_EQ(sends(out, b, MsgType::Kill).size(), 1u);
}

// One ckpt_restart per host, each restoring its own processes: the restart
// resumes only once every process of every host has rejoined, whichever
// host's come first.
TEST(CoordinatorStateMachine, RestartSpanningHostsWaitsForEveryHostsProcesses) {
  Harness h;
  const WorkerSpec r{.restart = true, .computation_size = 3, .generation = 7};
  WorkerSpec on2 = r, on3 = r;
  on2.host = "node2";
  on3.host = "node3";
  const ClientId a = h.worker(on2), b = h.worker(on2);
  EXPECT_TRUE(sends(h.last, a, MsgType::Advance).empty());
  EXPECT_TRUE(sends(h.last, b, MsgType::Advance).empty());
  const ClientId c = h.worker(on3);
  for (ClientId w : {a, b, c}) EXPECT_TRUE(has_advance(h.last, w, Barrier::Restarted));
  for (ClientId w : {a, b, c}) h.reached(w, Barrier::Restarted, 7);
  for (ClientId w : {a, b, c}) h.reached(w, Barrier::Refilled, 7);
  EXPECT_TRUE(logged(h.last, LogLevel::Info, "restart of generation 7 complete: 3 processes running on 2 hosts"));
}

// The same host's share restarted twice (the script run twice, two hosts
// mapped onto one host's images): the second copy of a process is killed
// and does not count towards the computation.
TEST(CoordinatorStateMachine, ProcessRestartedTwiceIsKilledAndNotCounted) {
  Harness h;
  const WorkerSpec r{.restart = true, .computation_size = 2, .generation = 3, .unique_id = "node1-42-1"};
  const ClientId a = h.worker(r);
  const ClientId twin = h.worker(r);
  EXPECT_EQ(sends(h.last, twin, MsgType::Kill).size(), 1u);
  EXPECT_TRUE(logged(h.last, LogLevel::Error, "rejoined twice"));
  EXPECT_TRUE(sends(h.last, a, MsgType::Advance).empty());
  WorkerSpec other = r;
  other.unique_id = "node2-42-1";
  h.disconnect(twin);
  const ClientId b = h.worker(other);
  EXPECT_TRUE(has_advance(h.last, a, Barrier::Restarted));
  EXPECT_TRUE(has_advance(h.last, b, Barrier::Restarted));
}

// A process that leaves while the restart gathers may come again (its
// host's ckpt_restart run once more): the new copy counts.
TEST(CoordinatorStateMachine, ProcessThatLeftWhileGatheringMayRejoin) {
  Harness h;
  const WorkerSpec r{.restart = true, .computation_size = 3, .generation = 3, .unique_id = "node1-42-1"};
  WorkerSpec other = r, third = r;
  other.unique_id = "node2-43-1";
  third.unique_id = "node3-1-1";
  const ClientId a = h.worker(r);
  const ClientId keep = h.worker(third);
  h.disconnect(a);
  const ClientId again = h.worker(r);
  EXPECT_TRUE(sends(h.last, again, MsgType::Kill).empty());
  EXPECT_TRUE(sends(h.last, again, MsgType::Advance).empty());
  const ClientId b = h.worker(other);
  for (ClientId w : {keep, again, b}) EXPECT_TRUE(has_advance(h.last, w, Barrier::Restarted));
}

// ckpt_restart running several hosts' shares learns from --status when the
// restart is over, and how it ended.
TEST(CoordinatorStateMachine, StatusReportsHowTheLastRestartEnded) {
  Harness h;
  const WorkerSpec r{.restart = true, .computation_size = 2, .generation = 5};
  const ClientId a = h.worker(r);
  ClientId cmd = h.command(MsgType::CmdStatus);
  std::string status = single_reply(h.last, cmd).payload;
  EXPECT_NE(status.find("\"restarts_finished\":0"), std::string::npos) << status;
  EXPECT_NE(status.find("\"restart_in_progress\":{\"generation\":5,\"rejoined\":1,\"expected\":2}"),
            std::string::npos)
      << status;
  const ClientId b = h.worker(r);
  for (ClientId w : {a, b}) h.reached(w, Barrier::Restarted, 5);
  for (ClientId w : {a, b}) h.reached(w, Barrier::Refilled, 5);
  cmd = h.command(MsgType::CmdStatus);
  status = single_reply(h.last, cmd).payload;
  EXPECT_NE(status.find("\"restarts_finished\":1"), std::string::npos) << status;
  // Without figures from the processes (an older libckpt), no time to running.
  EXPECT_NE(status.find("\"last_restart\":{\"generation\":5,\"ok\":true,\"processes\":2,\"running_ms\":null"),
            std::string::npos)
      << status;

  const ClientId c = h.worker({.restart = true, .computation_size = 2, .generation = 5});
  const Actions armed = h.last;
  h.fire(TimerKind::Restart, armed);
  EXPECT_EQ(sends(h.last, c, MsgType::Kill).size(), 1u);
  cmd = h.command(MsgType::CmdStatus);
  status = single_reply(h.last, cmd).payload;
  EXPECT_NE(status.find("\"restarts_finished\":2"), std::string::npos) << status;
  EXPECT_NE(status.find("\"ok\":false"), std::string::npos) << status;
  EXPECT_NE(status.find("only 1 of 2 processes rejoined"), std::string::npos) << status;
}

TEST(CoordinatorStateMachine, RestartBarrierFailureKillsTheRestartedProcesses) {
  Harness h;
  const WorkerSpec r{.restart = true, .computation_size = 2, .generation = 4};
  const ClientId a = h.worker(r), b = h.worker(r);
  h.reached(a, Barrier::Restarted, 4);
  auto out = h.disconnect(b);
  EXPECT_EQ(sends(out, a, MsgType::Kill).size(), 1u);
  EXPECT_TRUE(logged(out, LogLevel::Error, "disconnected before reaching RESTARTED"));
}

TEST(CoordinatorStateMachine, RestoredProcessMayFinishOnceItReachedRefilled) {
  Harness h;
  const WorkerSpec r{.restart = true, .computation_size = 3, .generation = 4};
  const ClientId a = h.worker(r), b = h.worker(r), c = h.worker(r);
  for (ClientId w : {a, b, c}) h.reached(w, Barrier::Restarted, 4);
  // b runs again and exits at once; the others have not answered yet.
  h.reached(b, Barrier::Refilled, 4);
  auto out = h.disconnect(b);
  EXPECT_TRUE(sends(out, a, MsgType::Kill).empty());
  EXPECT_FALSE(logged(out, LogLevel::Error, "failed"));
  h.reached(a, Barrier::Refilled, 4);
  h.reached(c, Barrier::Refilled, 4);
  EXPECT_TRUE(logged(h.last, LogLevel::Info, "restart of generation 4 complete: 2 processes running"));
}

TEST(CoordinatorStateMachine, RestoredProcessLeavingBeforeRefilledStillFailsTheRestart) {
  Harness h;
  const WorkerSpec r{.restart = true, .computation_size = 2, .generation = 4};
  const ClientId a = h.worker(r), b = h.worker(r);
  for (ClientId w : {a, b}) h.reached(w, Barrier::Restarted, 4);
  auto out = h.disconnect(b);
  EXPECT_EQ(sends(out, a, MsgType::Kill).size(), 1u);
  EXPECT_TRUE(logged(out, LogLevel::Error, "disconnected before reaching REFILLED"));
}

TEST(CoordinatorStateMachine, CheckpointRefusedWhileRestarting) {
  Harness h;
  h.worker({.restart = true, .computation_size = 2, .generation = 1});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  EXPECT_EQ(single_reply(h.last, cmd).payload, "cannot checkpoint: restart of generation 1 in progress");
}

TEST(CoordinatorStateMachine, IntervalTimerTriggersCheckpoints) {
  Config cfg = Harness::default_config();
  cfg.interval_sec = 30;
  cfg.interval_given = true;
  Harness h(cfg);
  const Actions armed = h.last;
  const ClientId a = h.worker();
  auto out = h.fire(TimerKind::Interval, armed);
  EXPECT_TRUE(has_advance(out, a, Barrier::Suspended));
  bool rearmed = false;
  for (const Action& act : out)
    if (auto* t = std::get_if<ArmTimer>(&act); t && t->kind == TimerKind::Interval) rearmed = t->delay == 30s;
  EXPECT_TRUE(rearmed);
}

TEST(CoordinatorStateMachine, WorkerIntervalRequestYieldsToCommandLineAndCommand) {
  Harness h;
  h.worker({.interval = 10});
  EXPECT_EQ(h.c.interval(), 10u);
  h.command(MsgType::CmdInterval, 0);
  EXPECT_EQ(h.c.interval(), 0u);
  EXPECT_TRUE(has<CancelTimer>(h.last));
  h.worker({.interval = 20});
  EXPECT_EQ(h.c.interval(), 0u) << "ckpt_command's setting wins";

  Config cfg = Harness::default_config();
  cfg.interval_sec = 5;
  cfg.interval_given = true;
  Harness cl(cfg);
  cl.worker({.interval = 10});
  EXPECT_EQ(cl.c.interval(), 5u) << "the command line wins";
}

TEST(CoordinatorStateMachine, KillFreezesEveryWorkerBeforeKillingAny) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker(), c = h.worker();
  const ClientId cmd = h.command(MsgType::CmdKill);
  for (ClientId w : {a, b, c}) {
    EXPECT_EQ(sends(h.last, w, MsgType::Freeze).size(), 1u);
    EXPECT_TRUE(sends(h.last, w, MsgType::Kill).empty()) << "no kill before every process froze";
  }
  EXPECT_NE(single_reply(h.last, cmd).payload.find("\"killed\":3"), std::string::npos);
  EXPECT_FALSE(has<Exit>(h.last));
  h.msg(a, proto::make_header(MsgType::Frozen, 0));
  EXPECT_TRUE(sends(h.last, a, MsgType::Kill).empty());
  h.disconnect(c);  // gone meanwhile: not waited for
  EXPECT_TRUE(sends(h.last, a, MsgType::Kill).empty());
  h.command(MsgType::CmdCheckpoint);
  EXPECT_TRUE(sends(h.last, a, MsgType::Advance).empty()) << "no checkpoint of processes being killed";
  h.msg(b, proto::make_header(MsgType::Frozen, 0));
  EXPECT_EQ(sends(h.last, a, MsgType::Kill).size(), 1u);
  EXPECT_EQ(sends(h.last, b, MsgType::Kill).size(), 1u);
}

TEST(CoordinatorStateMachine, KillGoesAheadWhenAProcessDoesNotFreeze) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker();
  h.command(MsgType::CmdKill);
  const Actions armed = h.last;
  h.msg(a, proto::make_header(MsgType::Frozen, 0));
  EXPECT_TRUE(sends(h.last, a, MsgType::Kill).empty());
  h.fire(TimerKind::Kill, armed);
  EXPECT_EQ(sends(h.last, a, MsgType::Kill).size(), 1u);
  EXPECT_EQ(sends(h.last, b, MsgType::Kill).size(), 1u);
}

TEST(CoordinatorStateMachine, QuitKillsRepliesAndExits) {
  Harness h;
  const ClientId a = h.worker();
  const ClientId cmd = h.command(MsgType::CmdQuit);
  EXPECT_EQ(sends(h.last, a, MsgType::Kill).size(), 1u);
  EXPECT_EQ(single_reply(h.last, cmd).header.status, 0);
  ASSERT_TRUE(has<Exit>(h.last));
  EXPECT_TRUE(std::holds_alternative<Exit>(h.last.back())) << "exit comes after the reply";
}

TEST(CoordinatorStateMachine, ExitOnLastWithoutAnyWorkerExitsAfterTheTimeout) {
  Config cfg = Harness::default_config();
  cfg.exit_on_last = true;
  Harness h(cfg);
  const Actions armed = h.last;
  h.command(MsgType::CmdStatus);
  EXPECT_TRUE(has<Exit>(h.fire(TimerKind::FirstWorker, armed))) << "nobody came: the daemon must not stay";

  Harness busy(cfg);
  const Actions busy_armed = busy.last;
  busy.worker();
  EXPECT_FALSE(has<Exit>(busy.fire(TimerKind::FirstWorker, busy_armed))) << "a process is connected";

  Harness plain;  // without --exit-on-last the coordinator waits for ever
  for (const Action& a : plain.last)
    if (auto* t = std::get_if<ArmTimer>(&a)) {
      EXPECT_NE(t->kind, TimerKind::FirstWorker);
    }
}

TEST(CoordinatorStateMachine, ExitOnLastAfterLastWorkerLeaves) {
  Config cfg = Harness::default_config();
  cfg.exit_on_last = true;
  Harness h(cfg);
  const ClientId cmd = h.command(MsgType::CmdStatus);
  EXPECT_FALSE(has<Exit>(h.disconnect(cmd))) << "commands do not count";
  const ClientId a = h.worker(), b = h.worker();
  EXPECT_FALSE(has<Exit>(h.disconnect(a)));
  EXPECT_TRUE(has<Exit>(h.disconnect(b)));
}

TEST(CoordinatorStateMachine, StatusAndListDescribeTheComputation) {
  Harness h;
  const ClientId a = h.worker({.program = "sim", .pid = 4242});
  h.command(MsgType::CmdCheckpoint);
  h.reached(a, Barrier::Suspended, 1);
  const ClientId st = h.command(MsgType::CmdStatus);
  const std::string status = single_reply(h.last, st).payload;
  EXPECT_NE(status.find("\"state\":\"CHECKPOINTING\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"processes\":1"), std::string::npos);
  EXPECT_NE(status.find("\"port\":7779"), std::string::npos);
  const ClientId ls = h.command(MsgType::CmdList);
  const std::string list = single_reply(h.last, ls).payload;
  EXPECT_NE(list.find("\"program\":\"sim\""), std::string::npos) << list;
  EXPECT_NE(list.find("\"pid\":4242"), std::string::npos);
  EXPECT_NE(list.find("\"state\":\"SUSPENDED\""), std::string::npos);

  h.failed(a, 1, "disk full");
  const ClientId st2 = h.command(MsgType::CmdStatus);
  const std::string after = single_reply(h.last, st2).payload;
  EXPECT_NE(after.find("\"ok\":false"), std::string::npos) << after;
  EXPECT_NE(after.find("reported: disk full"), std::string::npos);
  EXPECT_NE(after.find("\"state\":\"RUNNING\""), std::string::npos);
}

TEST(CoordinatorStateMachine, UnknownFirstMessageClosesConnection) {
  Harness h;
  const ClientId x = h.connect();
  auto out = h.msg(x, proto::make_header(MsgType::Reached));
  ASSERT_TRUE(has<Close>(out));
}

// ckpt_share: what processes send with Reached(SUSPENDED) reaches every
// process with Advance(DRAINED), and what they send with
// Reached(RESTARTED) every process with Advance(REFILLED).
TEST(CoordinatorStateMachine, SharedDataReachesEveryProcessAtTheNextBarrier) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 4243});
  h.command(MsgType::CmdCheckpoint);
  auto shared_reached = [&](ClientId w, Barrier barrier, uint64_t gen, const std::string& data) {
    return h.msg(w, proto::make_header(MsgType::Reached, static_cast<uint32_t>(data.size()), gen,
                                       static_cast<uint64_t>(barrier)),
                 data);
  };
  auto shared_in = [](const Actions& actions, ClientId to, Barrier barrier) {
    for (const Send& s : sends(actions, to, MsgType::Advance))
      if (s.header.arg == static_cast<uint64_t>(barrier)) return s.payload.substr(sizeof(proto::AdvancePayload));
    ADD_FAILURE() << "no Advance";
    return std::string();
  };
  shared_reached(a, Barrier::Suspended, 1, "from-a");
  shared_reached(b, Barrier::Suspended, 1, "from-b");
  for (ClientId w : {a, b}) EXPECT_EQ(shared_in(h.last, w, Barrier::Drained), "from-afrom-b");
  for (ClientId w : {a, b}) h.reached(w, Barrier::Drained, 1);
  for (ClientId w : {a, b}) EXPECT_EQ(shared_in(h.last, w, Barrier::Checkpointed), "") << "once only";

  Harness r;
  const ClientId x = r.worker({.restart = true, .computation_size = 2, .generation = 3});
  const ClientId y = r.worker({.pid = 4243, .restart = true, .computation_size = 2, .generation = 3});
  auto restarted = [&](ClientId w, const std::string& data) {
    return r.msg(w, proto::make_header(MsgType::Reached, static_cast<uint32_t>(data.size()), 3,
                                       static_cast<uint64_t>(Barrier::Restarted)),
                 data);
  };
  restarted(x, "listener-x");
  restarted(y, "");
  for (ClientId w : {x, y}) EXPECT_EQ(shared_in(r.last, w, Barrier::Refilled), "listener-x");
}

TEST(CoordinatorStateMachine, TooMuchSharedDataFailsTheCheckpoint) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 4243});
  const ClientId cmd = h.command(MsgType::CmdCheckpoint);
  const std::string big(proto::kMaxPayload / 2 + 1, 'x');
  h.msg(a, proto::make_header(MsgType::Reached, static_cast<uint32_t>(big.size()), 1,
                              static_cast<uint64_t>(Barrier::Suspended)),
        big);
  h.msg(b, proto::make_header(MsgType::Reached, static_cast<uint32_t>(big.size()), 1,
                              static_cast<uint64_t>(Barrier::Suspended)),
        big);
  const Send reply = single_reply(h.last, cmd);
  EXPECT_NE(reply.header.status, 0);
  EXPECT_NE(reply.payload.find("shared more data than one message holds"), std::string::npos);
}


// Plugin barriers (DMTCP's dmtcp_global_barrier inside an event hook).
Actions plugin_barrier(Harness& h, ClientId id, const std::string& name, uint64_t scope = proto::kPluginBarrierGlobal) {
  return h.msg(id, proto::make_header(MsgType::PluginBarrier, static_cast<uint32_t>(name.size()), 0, scope), name);
}

TEST(CoordinatorStateMachine, PluginBarrierWaitsForEveryProcessOfTheCheckpoint) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 7});
  h.command(MsgType::CmdCheckpoint);
  EXPECT_TRUE(sends(plugin_barrier(h, a, "presuspend:1"), a, MsgType::PluginBarrierReleased).empty());
  auto out = plugin_barrier(h, b, "presuspend:1");
  for (ClientId w : {a, b}) {
    auto rel = sends(out, w, MsgType::PluginBarrierReleased);
    ASSERT_EQ(rel.size(), 1u);
    EXPECT_EQ(rel[0].payload, "presuspend:1");
  }
}

TEST(CoordinatorStateMachine, PluginBarrierDoesNotWaitForAProcessThatAnsweredTheStepWithoutCallingIt) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 7});
  h.command(MsgType::CmdCheckpoint);
  plugin_barrier(h, a, "x");
  auto out = h.reached(b, Barrier::Suspended, 1);
  EXPECT_EQ(sends(out, a, MsgType::PluginBarrierReleased).size(), 1u) << "b has no plugin that calls it";
  EXPECT_TRUE(sends(out, b, MsgType::PluginBarrierReleased).empty());
}

TEST(CoordinatorStateMachine, PluginBarrierOfAHostWaitsOnlyForThatHost) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 7, .host = "node2"});
  h.command(MsgType::CmdCheckpoint);
  auto out = plugin_barrier(h, a, "local", proto::kPluginBarrierHost);
  EXPECT_EQ(sends(out, a, MsgType::PluginBarrierReleased).size(), 1u);
  EXPECT_TRUE(sends(plugin_barrier(h, a, "global"), a, MsgType::PluginBarrierReleased).empty())
      << "a global one waits for node2";
  EXPECT_EQ(sends(plugin_barrier(h, b, "global"), a, MsgType::PluginBarrierReleased).size(), 1u);
}

TEST(CoordinatorStateMachine, PluginBarrierOutsideACheckpointPassesAtOnce) {
  Harness h;
  const ClientId a = h.worker();
  h.worker({.pid = 7});
  EXPECT_EQ(sends(plugin_barrier(h, a, "x"), a, MsgType::PluginBarrierReleased).size(), 1u);
}

TEST(CoordinatorStateMachine, PluginBarrierWaitsForTheRestoredProcessesOfARestart) {
  Harness h;
  const ClientId a = h.worker({.restart = true, .computation_size = 2, .generation = 3});
  const ClientId b = h.worker({.pid = 7, .restart = true, .computation_size = 2, .generation = 3});
  h.reached(a, Barrier::Restarted, 3);
  h.reached(b, Barrier::Restarted, 3);
  ASSERT_TRUE(has_advance(h.last, a, Barrier::Refilled));
  EXPECT_TRUE(sends(plugin_barrier(h, a, "restart"), a, MsgType::PluginBarrierReleased).empty());
  EXPECT_EQ(sends(plugin_barrier(h, b, "restart"), a, MsgType::PluginBarrierReleased).size(), 1u);
}

TEST(CoordinatorStateMachine, ProcessExitingAtAPluginBarrierIsNotWaitedFor) {
  Harness h;
  const ClientId a = h.worker(), b = h.worker({.pid = 7}), c = h.worker({.pid = 8});
  h.command(MsgType::CmdCheckpoint);
  h.reached(c, Barrier::Suspended, 1);
  plugin_barrier(h, a, "x");
  plugin_barrier(h, b, "x");  // released: c answered without calling it
  auto out = plugin_barrier(h, a, "y");
  EXPECT_TRUE(sends(out, a, MsgType::PluginBarrierReleased).empty());
  out = h.disconnect(b);
  EXPECT_EQ(sends(out, a, MsgType::Abort).size(), 1u) << "c is frozen with b alive in its view";
  EXPECT_TRUE(sends(out, a, MsgType::PluginBarrierReleased).empty()) << "the Abort frees it, not a release";
}

}  // namespace
}  // namespace ckpt::coord
