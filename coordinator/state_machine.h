// The coordinator as a pure state machine over messages.
//
// Every input is an event (a connection opened, a message arrived, a
// connection closed, a timer fired, the restart script was written) and every
// output is a list of actions for the network shell (server.cpp) to perform.
// Nothing here touches a socket or a clock, and files only through
// Config::scan (what a checkpoint directory holds), so the whole checkpoint
// and restart protocol is unit-tested with fake clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "checkpoint_figures.h"
#include "ckpt/protocol.h"
#include "generations.h"

namespace ckpt::coord {

using ClientId = uint64_t;
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// One timer per kind; re-arming a kind replaces the previous deadline.
// How long ckpt_command --kill waits for the processes to freeze.
inline constexpr std::chrono::milliseconds kFreezeTimeout{2000};

enum class TimerKind {
  CheckpointBarrier,  // the current checkpoint barrier (or the wait for Written) timed out
  Restart,            // gathering restarted processes, or a restart barrier, timed out
  Interval,           // periodic checkpoint
  Kill,               // processes that were told to freeze before a kill did not answer
  FirstWorker,        // --exit-on-last: no process ever connected
};

enum class LogLevel { Error, Warn, Info, Debug };

struct Send {
  ClientId to;
  proto::MsgHeader header{};  // payload_len already matches `payload`
  std::string payload;
};
// Close the connection once everything queued for it has been sent.
struct Close {
  ClientId client;
};
// A fired timer is reported back with its token; a stale token is ignored,
// so the shell need not worry about a cancel racing with an expiry.
struct ArmTimer {
  TimerKind kind;
  uint64_t token;
  std::chrono::milliseconds delay;
};
struct CancelTimer {
  TimerKind kind;
};
// Write `text` atomically (mode 755) to `path`, the generation's own script:
// once it is there the generation is committed. Then the same to
// `latest_path`, the script that names the newest generation. If either
// fails, neither of them is left naming this generation. Report the outcome
// through Coordinator::script_written().
struct WriteScript {
  uint64_t generation;
  std::string path;
  std::string latest_path;
  std::string text;
};
// Remove these files (the scripts of generations no longer kept); a file
// already gone is no error.
struct RemoveFiles {
  std::vector<std::string> paths;
};
// Continue these workers if they are stopped by job control (Ctrl-Z,
// SIGSTOP) and are provably ours: a stopped process cannot answer the
// checkpoint (or the freeze before a kill) that is starting. Each woken
// process finds the SIGCONT pending on its checkpoint thread and stops
// itself again when the coordinator is done with it (plugins/signal/
// job_control.cpp). Only the shell can tell a worker is on this machine.
struct ContinueStopped {
  struct Target {
    ClientId client;
    int real_pid;
  };
  std::vector<Target> workers;
};
struct Log {
  LogLevel level;
  std::string text;
};
// Exit the coordinator with `code` once queued messages are flushed.
struct Exit {
  int code;
};
using Action = std::variant<Send, Close, ArmTimer, CancelTimer, WriteScript, RemoveFiles, ContinueStopped, Log, Exit>;
using Actions = std::vector<Action>;

struct Config {
  std::string hostname;        // where the coordinator runs
  uint16_t port = proto::kDefaultPort;
  int pid = 0;
  std::string ckptdir;         // --ckptdir; empty: workers choose
  unsigned interval_sec = 0;   // --interval
  bool interval_given = false; // --interval was on the command line: workers may not change it
  std::chrono::seconds timeout{60};
  bool exit_on_last = false;
  std::string restart_program;  // ckpt_restart next to the coordinator, baked into the script
  unsigned keep = proto::kDefaultKeep;  // --keep: committed generations kept
  // The id given to the computation if its first process is a new one (a
  // restored one brings its own): random, made by the caller.
  uint64_t computation_id = 1;
  // What a checkpoint directory holds (scan_generations; tests give a fake).
  // The only look at files the machine takes: a new generation is numbered
  // past everything there. Unset: directories are taken as empty.
  std::function<DirGenerations(const std::string& dir)> scan;
  // The parent of an incremental image (generations.h image_parent; tests
  // give a fake): an image a kept one needs is not removed with its
  // generation. Unset: every image is full.
  std::function<std::string(const std::string& image)> image_parent;
};

// "SUSPENDED", "DRAINED", ...
std::string_view barrier_name(proto::Barrier b);

class Coordinator {
 public:
  explicit Coordinator(Config config);

  // Arms the interval timer if one was configured.
  Actions start(TimePoint now);
  Actions connected(ClientId client, TimePoint now);
  Actions message(ClientId client, const proto::MsgHeader& header, std::string_view payload, TimePoint now);
  Actions disconnected(ClientId client, TimePoint now);
  Actions timer_fired(TimerKind kind, uint64_t token, TimePoint now);
  // Outcome of a WriteScript action; `error` is empty on success.
  Actions script_written(uint64_t generation, const std::string& error, TimePoint now);

  size_t worker_count() const { return workers_.size(); }
  uint64_t generation() const { return generation_; }
  uint64_t computation_id() const { return computation_id_; }
  unsigned interval() const { return interval_sec_; }

 private:
  enum class ClientKind { Unknown, Worker, Command };
  enum class IntervalSource { None, CommandLine, Command, Worker };

  struct Worker {
    uint32_t id = 0;
    int virt_pid = 0;
    int real_pid = 0;
    std::string program;
    std::string host;
    std::string unique_id;
    std::string ckptdir;              // where it writes its images unless --ckptdir says otherwise
    uint64_t restart_generation = 0;  // generation of the image it was restored from
  };

  struct Image {
    std::string path;
    uint64_t size = 0;
  };

  struct Checkpoint {
    uint64_t generation = 0;
    TimePoint started;
    // The barrier being waited for: Suspended..Refilled, then Written.
    proto::Barrier target = proto::Barrier::Suspended;
    std::map<ClientId, proto::Barrier> reached;  // every participant, with the last barrier it reached
    std::map<ClientId, Image> written;
    // What each process reported of its part (ckpt_command --checkpoint --json).
    std::map<ClientId, ProcessFigures> figures;
    std::optional<TimePoint> frozen;  // when the last process reached SUSPENDED
    std::vector<ClientId> waiters;  // ckpt_command connections awaiting the result
    std::string script_path;        // set once the script is being written: the generation's own
    std::string latest_script;      // ckpt_restart_script.sh next to it
    std::vector<std::string> warnings;  // what processes saved only as placeholders
    std::string shared;                 // what the processes shared at SUSPENDED, for DRAINED (ckpt_share)
    unsigned attempt = 1;           // retries after processes exited before suspending (see retry_checkpoint)
    bool then_kill = false;         // ckpt_command --then-kill: no REFILLED; killed once committed
  };

  struct Restart {
    uint64_t generation = 0;
    uint32_t expected = 0;  // computation_size announced by the first restarted process
    TimePoint started;
    // Running while gathering Hellos, then Restarted, then Refilled.
    proto::Barrier target = proto::Barrier::Running;
    std::set<ClientId> members;
    std::set<ClientId> reached;
    std::string shared;  // what the processes shared at RESTARTED, for REFILLED (ckpt_share)
    // The unique ids of the members: a process restarted twice (one host's
    // share run twice) is refused.
    std::set<std::string> unique_ids;
    std::set<std::string> hosts;  // where the members run
    std::map<ClientId, stats::RestartFigures> figures;  // from their REFILLED
  };

  struct LastRestart {
    uint64_t generation = 0;
    bool ok = false;
    size_t processes = 0;
    std::string reason;
    // From ckpt_restart's start to the last process running (its host's
    // clock); none unless every process reported it.
    std::optional<uint64_t> running_ns;
    bool lazy = false;  // some memory is read from the images on first touch, after it runs
  };

  struct Committed {
    std::string dir;                  // of its script
    std::vector<std::string> images;  // as its script names them
  };

  struct LastCheckpoint {
    uint64_t generation = 0;
    TimePoint time;
    std::chrono::milliseconds duration{0};
    bool ok = false;
    std::string reason;
    std::string script;
    size_t images = 0;
    uint64_t bytes = 0;
    std::vector<std::string> warnings;
    cli::Json figures;  // checkpoint_figures_json (null when it failed)
  };

  // Message handlers.
  bool admissible(ClientId client, const proto::HelloPayload& hello);
  void on_hello(ClientId client, const proto::MsgHeader& h, std::string_view payload, TimePoint now);
  void on_reached(ClientId client, const proto::MsgHeader& h, std::string_view payload, TimePoint now);
  void on_failed(ClientId client, const proto::MsgHeader& h, std::string_view payload, TimePoint now);
  void on_warning(ClientId client, const proto::MsgHeader& h, std::string_view payload);
  void on_command(ClientId client, const proto::MsgHeader& h, TimePoint now);
  void on_plugin_barrier(ClientId client, const proto::MsgHeader& h, std::string_view payload);

  // Plugin barriers (protocol.h PluginBarrier).
  // True while `client` may still call a plugin barrier in the current step:
  // it takes part in the checkpoint or restart under way and has not
  // answered the barrier the coordinator waits for.
  bool in_plugin_step(ClientId client) const;
  // Releases every plugin barrier that nobody still in the step is missing.
  void release_plugin_barriers();

  // Checkpoint.
  // then_kill: ckpt_command --checkpoint --then-kill (protocol.h kCheckpointThenKill).
  void request_checkpoint(std::optional<ClientId> waiter, std::string_view trigger, TimePoint now,
                          bool then_kill = false);
  void advance_checkpoint(proto::Barrier next);
  void checkpoint_reached(ClientId client, const proto::MsgHeader& h, std::string_view payload, TimePoint now);
  // The figures entry of a process of the checkpoint under way, made with
  // its name and pid (it may be gone by the time the checkpoint commits).
  ProcessFigures& figures_of(ClientId client);
  void maybe_finish_barrier();
  void write_script();
  void fail_checkpoint(int status, const std::string& why, TimePoint now);
  void retry_checkpoint(const std::string& why, TimePoint now);
  std::set<std::string> checkpoint_dirs() const;
  std::vector<uint64_t> commit_generation(uint64_t generation, Committed files);
  void remove_generation(uint64_t generation, const Committed& files, std::vector<std::string>& paths);
  std::string render_script() const;

  // Restart.
  void restart_hello(ClientId client, const proto::HelloPayload& hello, TimePoint now);
  void begin_restart_barriers();
  void restart_reached(ClientId client, proto::Barrier b, std::string_view payload);
  // Adds a process's shared data (ckpt_share) to `to`; false if the whole
  // would not fit one message.
  static bool add_shared(std::string& to, std::string_view payload);
  void maybe_finish_restart_barrier();
  void fail_restart(const std::string& why);

  // Interval and misc.
  void set_interval(unsigned seconds, IntervalSource source);
  void arm(TimerKind kind, std::chrono::milliseconds delay);
  void cancel(TimerKind kind);
  // Kills every worker. freeze_first: all stop their threads before any
  // dies (see freezing_); else the Kill goes out at once.
  void kill_all(bool freeze_first);
  // The ContinueStopped action for every worker.
  void continue_stopped_workers();
  void finish_kill();
  void reply(ClientId client, int status, uint64_t generation, std::string payload);
  void send(ClientId to, proto::MsgType type, uint64_t generation, uint64_t arg, std::string payload = {},
            int32_t status = 0);
  // `shared`: what the processes shared (ckpt_share), after the AdvancePayload.
  void send_advance(ClientId to, proto::Barrier b, uint64_t generation, uint32_t computation_size,
                    std::string_view shared = {});
  void log(LogLevel level, std::string text);
  // Constructs the alternative in place: moving a whole Action trips GCC 12's
  // -Wmaybe-uninitialized on the inactive alternatives.
  template <typename T>
  void emit(T&& action) {
    out_.emplace_back(std::in_place_type<std::decay_t<T>>, std::forward<T>(action));
  }
  void check_exit_on_last();

  std::string describe(ClientId client) const;  // "process 2 (sim, pid 4242 on host)"
  std::string worker_state(ClientId client) const;
  std::string status_json() const;
  std::string list_json() const;

  Config config_;
  Actions out_;

  std::map<ClientId, ClientKind> clients_;
  std::map<ClientId, Worker> workers_;
  uint32_t next_worker_id_ = 1;
  bool had_worker_ = false;

  uint64_t generation_ = 0;  // highest generation used or restored; never reused
  // The committed generations of this computation that are still kept (at
  // most config_.keep once a new one is committed). Seeded at the first
  // commit from the script directory.
  std::map<uint64_t, Committed> committed_;
  // Generations newer than the one a computation was restarted from: the
  // next commit removes them.
  std::map<uint64_t, Committed> abandoned_;
  // Images of generations no longer kept that a kept image still needed
  // (its parent, or further up its chain): removed once none does.
  std::set<std::string> retained_;
  bool history_seeded_ = false;
  uint64_t joined_generation_ = 0;
  uint64_t computation_id_ = 0;  // 0 until the first process joins (WelcomePayload)  // the highest generation a process said it took part in or came from
  std::optional<Checkpoint> ckpt_;
  std::optional<Restart> restart_;
  // Plugin barriers being waited at, by (host, name) (host "" for a global
  // one): the processes waiting there. Emptied when a checkpoint or restart
  // fails (its Abort or Kill frees the waiters).
  std::map<std::pair<std::string, std::string>, std::set<ClientId>> plugin_barriers_;
  // ckpt_command --kill: the workers still to answer Freeze (the Kill is sent
  // to all when this empties or the Kill timer fires); nullopt: no kill due.
  std::optional<std::set<ClientId>> freezing_;
  std::optional<LastCheckpoint> last_;
  // Restarts finished (complete or failed), and the latest: a ckpt_restart
  // that runs the shares of several hosts watches these (ckpt_command --status).
  uint64_t restarts_finished_ = 0;
  std::optional<LastRestart> last_restart_;

  unsigned interval_sec_ = 0;
  IntervalSource interval_source_ = IntervalSource::None;
  std::map<TimerKind, uint64_t> timer_tokens_;
  uint64_t next_token_ = 1;
  bool exiting_ = false;
};

}  // namespace ckpt::coord
