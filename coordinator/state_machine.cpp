#include "state_machine.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <utility>

#include "ckpt/image_names.h"
#include "cli.h"
#include "cli_json.h"
#include "restart_script.h"
#include "text.h"

namespace ckpt::coord {

using cli::Json;
using cli::json_text;
using proto::Barrier;
using proto::MsgType;

namespace {

// A process that exits before suspending fails its checkpoint, which is then
// tried again at once; a computation whose processes keep coming and going
// gets this many tries.
constexpr unsigned kMaxCheckpointAttempts = 3;

// What a peer sends (a program name, a reason, a path) goes into log lines
// and replies printable(), so that nobody can forge a line of the log.
using cli::printable;

// A fixed-size char field of a payload struct as a string; the sender may
// not have NUL-terminated it.
template <size_t N>
std::string raw_field(const char (&chars)[N]) {
  return std::string(chars, ::strnlen(chars, N));
}

// A name (program, host, id) as shown in replies and logs.
template <size_t N>
std::string field(const char (&chars)[N]) {
  return printable(raw_field(chars));
}

// Payload structs are read leniently: a shorter payload leaves the rest
// zeroed, a longer one (a newer sender) is cut to what we know.
template <typename T>
T read_payload(std::string_view payload) {
  T value{};
  std::memcpy(&value, payload.data(), std::min(payload.size(), sizeof(T)));
  return value;
}

std::string hex_id(uint64_t id) {
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
  return text;
}

template <typename T>
std::string payload_bytes(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(T));
}

std::string format_time(TimePoint t) {
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  return buf;
}

std::chrono::milliseconds elapsed(TimePoint from, TimePoint to) {
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(to - from));
}

// The text a worker sent with Failed, as one line.
std::string one_line(std::string_view text) {
  std::string s(text.substr(0, text.find('\0')));
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return printable(std::move(s));
}

}  // namespace

std::string_view barrier_name(Barrier b) {
  switch (b) {
    case Barrier::Running: return "RUNNING";
    case Barrier::Suspended: return "SUSPENDED";
    case Barrier::Drained: return "DRAINED";
    case Barrier::Checkpointed: return "CHECKPOINTED";
    case Barrier::Refilled: return "REFILLED";
    case Barrier::Written: return "WRITTEN";
    case Barrier::Restarted: return "RESTARTED";
  }
  return "UNKNOWN";
}

Coordinator::Coordinator(Config config) : config_(std::move(config)) {
  if (config_.interval_given) {
    interval_sec_ = config_.interval_sec;
    interval_source_ = IntervalSource::CommandLine;
  }
}

// ---------------------------------------------------------------------------
// Events

Actions Coordinator::start(TimePoint) {
  if (interval_sec_ > 0) arm(TimerKind::Interval, std::chrono::seconds(interval_sec_));
  // A program that ends (or is static, or outside any computation) before
  // its first connection would leave an --exit-on-last daemon forever.
  if (config_.exit_on_last) arm(TimerKind::FirstWorker, config_.timeout);
  log(LogLevel::Info, "listening on " + config_.hostname + ":" + std::to_string(config_.port) +
                          (config_.ckptdir.empty() ? "" : ", ckptdir " + config_.ckptdir) +
                          (interval_sec_ > 0 ? ", interval " + std::to_string(interval_sec_) + " s" : ""));
  return std::exchange(out_, {});
}

Actions Coordinator::connected(ClientId client, TimePoint) {
  clients_[client] = ClientKind::Unknown;
  return std::exchange(out_, {});
}

Actions Coordinator::message(ClientId client, const proto::MsgHeader& h, std::string_view payload, TimePoint now) {
  auto it = clients_.find(client);
  if (it == clients_.end() || exiting_) return std::exchange(out_, {});
  const auto type = static_cast<MsgType>(h.type);
  const bool is_command = h.type >= static_cast<uint16_t>(MsgType::CmdCheckpoint) &&
                          h.type <= static_cast<uint16_t>(MsgType::CmdQuit);

  // A connection's first message decides what it is.
  if (it->second == ClientKind::Unknown) {
    if (type == MsgType::Hello && !admissible(client, read_payload<proto::HelloPayload>(payload))) {
      emit(Close{client});
    } else if (type == MsgType::Hello) {
      it->second = ClientKind::Worker;
      on_hello(client, h, payload, now);
    } else if (is_command) {
      it->second = ClientKind::Command;
      on_command(client, h, now);
    } else {
      log(LogLevel::Warn, "connection " + std::to_string(client) + ": unexpected first message type " +
                              std::to_string(h.type) + "; closing it");
      emit(Close{client});
    }
    return std::exchange(out_, {});
  }

  if (it->second == ClientKind::Worker) {
    switch (type) {
      case MsgType::Reached: on_reached(client, h, payload, now); break;
      case MsgType::Failed: on_failed(client, h, payload, now); break;
      case MsgType::Warning: on_warning(client, h, payload); break;
      case MsgType::RequestCheckpoint: request_checkpoint(std::nullopt, describe(client), now); break;
      case MsgType::PluginBarrier: on_plugin_barrier(client, h, payload); break;
      case MsgType::Frozen:
        if (freezing_ && freezing_->erase(client) && freezing_->empty()) finish_kill();
        break;
      case MsgType::Exec: {
        // Same process, same worker: only its program changed.
        const std::string before = describe(client);
        workers_.at(client).program = field(read_payload<proto::ExecPayload>(payload).progname);
        log(LogLevel::Info, before + " exec'ed " + workers_.at(client).program);
        break;
      }
      default:
        log(LogLevel::Warn, describe(client) + ": ignoring unexpected message type " + std::to_string(h.type));
    }
    // A process that answered the coordinator's barrier is done with the
    // step's plugin barriers.
    release_plugin_barriers();
  } else {
    log(LogLevel::Warn, "command connection " + std::to_string(client) + ": ignoring extra message type " +
                            std::to_string(h.type));
  }
  return std::exchange(out_, {});
}

Actions Coordinator::disconnected(ClientId client, TimePoint now) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return std::exchange(out_, {});
  const ClientKind kind = it->second;

  if (kind == ClientKind::Command && ckpt_) std::erase(ckpt_->waiters, client);

  if (kind == ClientKind::Worker) {
    const std::string who = describe(client);
    std::optional<std::string> retry_after_disconnect;
    if (ckpt_ && ckpt_->reached.count(client)) {
      if (ckpt_->target == Barrier::Suspended && ckpt_->reached[client] != Barrier::Suspended) {
        // It exited (or was killed) before it was suspended. Others may be
        // frozen already with it alive in their view (a parent that has not
        // seen it end), so this generation would miss a process its images
        // name: it fails. A new checkpoint, once it is gone, sees a consistent
        // computation without it (its parent holds a zombie), so a short-lived
        // child does not make checkpoints fail.
        ckpt_->reached.erase(client);
        retry_after_disconnect = who + " exited before suspending";
      } else if (!ckpt_->written.count(client) || ckpt_->reached[client] != Barrier::Refilled) {
        // A process that runs again and whose image is written may go (its
        // image writer reports WRITTEN, even after the process exited): the
        // snapshot holds.
        ckpt_->reached.erase(client);
        ckpt_->written.erase(client);
        const std::string what = ckpt_->target == Barrier::Written
                                     ? "before its image was written"
                                     : "before reaching " + std::string(barrier_name(ckpt_->target));
        fail_checkpoint(ECONNRESET, who + " disconnected " + what, now);
      }
    }
    if (restart_ && restart_->members.count(client)) {
      const bool reached_refilled = restart_->target == Barrier::Refilled && restart_->reached.count(client);
      restart_->members.erase(client);
      restart_->reached.erase(client);
      if (restart_->target == Barrier::Running) {
        // Another copy of it may still come (its host's restart run again).
        restart_->unique_ids.erase(workers_.at(client).unique_id);
        log(LogLevel::Warn, who + " disconnected while the restart was gathering processes");
        if (restart_->members.empty()) {
          cancel(TimerKind::Restart);
          restart_.reset();
        }
      } else if (restart_->target == Barrier::Refilled && reached_refilled) {
        // It runs again and may finish at once (a restored child about to
        // exit): the restart holds without it.
        log(LogLevel::Info, who + " finished right after its restart");
        maybe_finish_restart_barrier();
      } else {
        fail_restart(who + " disconnected before reaching " + std::string(barrier_name(restart_->target)));
      }
    }
    log(LogLevel::Info, who + " disconnected");
    workers_.erase(client);
    if (retry_after_disconnect) retry_checkpoint(*retry_after_disconnect, now);
    for (auto& [key, waiting] : plugin_barriers_) waiting.erase(client);
    if (freezing_ && freezing_->erase(client) && freezing_->empty()) finish_kill();
  }
  clients_.erase(it);
  if (kind == ClientKind::Worker) {
    release_plugin_barriers();
    check_exit_on_last();
  }
  return std::exchange(out_, {});
}

Actions Coordinator::timer_fired(TimerKind kind, uint64_t token, TimePoint now) {
  auto it = timer_tokens_.find(kind);
  if (it == timer_tokens_.end() || it->second != token || exiting_) return std::exchange(out_, {});
  timer_tokens_.erase(it);
  const auto timeout_s = std::to_string(config_.timeout.count()) + " s";

  switch (kind) {
    case TimerKind::CheckpointBarrier: {
      if (!ckpt_) break;
      // Name the first laggard, and count the others.
      std::vector<ClientId> late;
      for (const auto& [client, reached] : ckpt_->reached) {
        const bool done = ckpt_->target == Barrier::Written ? ckpt_->written.count(client) > 0
                                                            : reached == ckpt_->target;
        if (!done) late.push_back(client);
      }
      std::string why = late.empty() ? std::string("barrier timed out") : describe(late.front());
      if (!late.empty()) {
        why += ckpt_->target == Barrier::Written
                   ? " did not finish writing its image within " + timeout_s
                   : " did not reach " + std::string(barrier_name(ckpt_->target)) + " within " + timeout_s;
        if (late.size() > 1) why += " (nor did " + plural(late.size() - 1, "other process") + ")";
      }
      fail_checkpoint(ETIMEDOUT, why, now);
      break;
    }
    case TimerKind::Restart:
      if (!restart_) break;
      if (restart_->target == Barrier::Running) {
        // Without every process the computation cannot run correctly (its
        // processes may wait for the missing ones for ever): a host whose
        // share never came, or a process that died on the way.
        std::string hosts;
        for (const std::string& host : restart_->hosts) hosts += (hosts.empty() ? "" : ", ") + host;
        fail_restart("only " + std::to_string(restart_->members.size()) + " of " +
                     std::to_string(restart_->expected) + " processes rejoined within " + timeout_s +
                     " (from " + hosts + ")");
      } else {
        std::string who;
        for (ClientId c : restart_->members)
          if (!restart_->reached.count(c)) {
            who = describe(c);
            break;
          }
        fail_restart(who + " did not reach " + std::string(barrier_name(restart_->target)) + " within " + timeout_s);
      }
      break;
    case TimerKind::Interval:
      arm(TimerKind::Interval, std::chrono::seconds(interval_sec_));
      if (!ckpt_ && !restart_ && !freezing_ && !workers_.empty()) request_checkpoint(std::nullopt, "interval timer", now);
      break;
    case TimerKind::FirstWorker:
      if (had_worker_ || !workers_.empty() || restart_) break;
      log(LogLevel::Info, "no process connected within " + timeout_s + "; exiting (--exit-on-last)");
      exiting_ = true;
      emit(Exit{0});
      break;
    case TimerKind::Kill:
      if (!freezing_) break;
      log(LogLevel::Warn, plural(freezing_->size(), "process") + " did not freeze within " +
                              std::to_string(kFreezeTimeout.count()) + " ms; killing anyway");
      finish_kill();
      break;
  }
  return std::exchange(out_, {});
}

Actions Coordinator::script_written(uint64_t generation, const std::string& error, TimePoint now) {
  if (!ckpt_ || ckpt_->generation != generation || ckpt_->script_path.empty()) return std::exchange(out_, {});
  if (!error.empty()) {
    // The workers remove their images of it when the Abort reaches them.
    fail_checkpoint(EIO, "restart script: " + error, now);
    return std::exchange(out_, {});
  }

  Checkpoint done = std::move(*ckpt_);
  ckpt_.reset();
  Committed files{std::filesystem::path(done.script_path).parent_path().string(), {}};
  for (const auto& [client, image] : done.written) files.images.push_back(image.path);
  const std::vector<uint64_t> kept = commit_generation(done.generation, std::move(files));
  std::string kept_bytes(reinterpret_cast<const char*>(kept.data()), kept.size() * sizeof(uint64_t));
  uint64_t bytes = 0;
  Json images = Json::array();
  for (const auto& [client, image] : done.written) {
    bytes += image.size;
    images.push_back({{"path", image.path}, {"size", image.size}});
  }
  const auto duration = elapsed(done.started, now);
  std::vector<ProcessFigures> per_process;
  for (const auto& [client, image] : done.written) per_process.push_back(done.figures[client]);
  std::optional<std::chrono::nanoseconds> freeze;
  if (done.frozen) freeze = std::chrono::duration_cast<std::chrono::nanoseconds>(*done.frozen - done.started);
  Json figures = checkpoint_figures_json(per_process, freeze);
  const std::string figures_line = checkpoint_figures_line(figures);
  last_ = LastCheckpoint{done.generation, done.started, duration, true, {}, done.latest_script,
                         done.written.size(), bytes, done.warnings, figures};

  for (const auto& [client, reached] : done.reached)
    send(client, MsgType::Committed, done.generation, kept.size(), kept_bytes);
  const size_t killed = done.then_kill ? workers_.size() : 0;
  // Still suspended since their snapshot: nothing ran after it.
  if (done.then_kill) kill_all(false);
  Json result = {{"generation", done.generation},
                 {"images", images},
                 {"bytes", bytes},
                 {"script", done.latest_script},
                 {"generation_script", done.script_path},
                 {"kept", kept},
                 {"duration_ms", static_cast<int64_t>(duration.count())},
                 {"warnings", done.warnings},
                 {"stats", std::move(figures)}};
  if (done.then_kill) result["killed"] = killed;
  const std::string result_text = json_text(result);
  for (ClientId waiter : done.waiters) reply(waiter, 0, done.generation, result_text);
  log(LogLevel::Info, "checkpoint " + std::to_string(done.generation) + " committed: " +
                          plural(done.written.size(), "image") + ", " + std::to_string(bytes) + " bytes in " +
                          std::to_string(duration.count()) + " ms; restart script " + done.script_path +
                          (figures_line.empty() ? "" : "; " + figures_line));
  return std::exchange(out_, {});
}

// Generations are never reused, and nothing of a committed one is ever
// written over. Each process writes its own image, on whatever host and in
// whatever directory it runs, named by its unique id and the generation; the
// coordinator writes only the scripts. So a new generation is numbered past
// every one this coordinator used or heard of from its processes (their
// Hello), and past every image and script in the directories the images go
// to (a coordinator started anew on the same directory, with processes that
// never checkpointed, finds them there). A generation is committed when its
// own script, ckpt_restart_g<N>.sh, is in place: one rename, after every
// image is durable. ckpt_restart_script.sh is then a copy of the newest.
//
// --keep N: the newest N committed generations stay. The coordinator removes
// the scripts of older ones and the images they name that it can reach (those
// of processes that are gone, too); each process removes its own older images
// when Committed (which lists the generations kept) reaches it, and with them any
// image of a generation that never committed (a failed checkpoint, a
// coordinator that died before committing) and its writers' stray temporary
// files. The generation a computation was restarted from counts as committed
// (it is the one in use), so it goes only once N newer ones are committed.
// Restarting an older generation abandons the newer ones: the first commit
// after it removes them. One directory holds one computation's checkpoints.
std::vector<uint64_t> Coordinator::commit_generation(uint64_t generation, Committed files) {
  std::vector<std::string> remove;
  if (!history_seeded_) {
    history_seeded_ = true;
    // Scripts up to the generation our processes came from are this
    // computation's earlier ones; scripts after it, abandoned ones. A
    // computation that comes from nowhere (generation 0) leaves whatever
    // else is in the directory alone.
    const DirGenerations found = config_.scan ? config_.scan(files.dir) : DirGenerations{};
    for (const auto& [g, images] : found.committed) {
      Committed earlier{files.dir, images};
      if (g <= joined_generation_) {
        Committed& known = committed_[g];
        if (known.images.empty()) known = std::move(earlier);
      } else if (joined_generation_ > 0 && g < generation) {
        remove_generation(g, earlier, remove);
      }
    }
  }
  for (const auto& [g, earlier] : abandoned_) remove_generation(g, earlier, remove);
  abandoned_.clear();
  committed_[generation] = std::move(files);
  const size_t keep = std::clamp<size_t>(config_.keep, 1, proto::kMaxKeep);
  while (committed_.size() > keep) {
    remove_generation(committed_.begin()->first, committed_.begin()->second, remove);
    committed_.erase(committed_.begin());
  }
  // Incremental images: the chains of the kept generations' images stay.
  if (config_.image_parent) {
    std::set<std::string> needed;
    for (const auto& [g, files] : committed_)
      for (const std::string& image : files.images)
        for (std::string at = config_.image_parent(image); !at.empty() && needed.size() < 65536;
             at = config_.image_parent(at))
          if (!needed.insert(at).second) break;
    for (const std::string& image : retained_)
      if (!needed.count(image)) remove.push_back(image);
    retained_.clear();
    std::erase_if(remove, [&](const std::string& path) {
      if (!needed.count(path)) return false;
      retained_.insert(path);
      return true;
    });
  }
  if (!remove.empty()) emit(RemoveFiles{std::move(remove)});
  std::vector<uint64_t> kept;
  for (const auto& [g, d] : committed_) kept.push_back(g);
  return kept;
}

// ---------------------------------------------------------------------------
// Workers

// Whether a process may join: its generation is one ckpt can number past, and
// it belongs to this coordinator's computation (a restored process brings
// the id its images record; a new one takes the coordinator's). One line
// in the log when not.
bool Coordinator::admissible(ClientId client, const proto::HelloPayload& hello) {
  const std::string who = "connection " + std::to_string(client) + " (" + field(hello.progname) + ", pid " +
                          std::to_string(hello.virt_pid) + ")";
  if (hello.generation > proto::kMaxGeneration) {
    // Only a corrupt or hostile peer says so; taking it would wrap the numbering round.
    log(LogLevel::Error, who + " reports generation " + std::to_string(hello.generation) +
                             ", beyond the largest ckpt uses; closing it");
    return false;
  }
  if (hello.computation_id != 0 && computation_id_ != 0 && hello.computation_id != computation_id_) {
    log(LogLevel::Error, who + " belongs to computation " + hex_id(hello.computation_id) + ", not to this coordinator's " +
                             hex_id(computation_id_) + "; closing it (one coordinator per computation)");
    return false;
  }
  if (computation_id_ == 0) computation_id_ = hello.computation_id ? hello.computation_id : config_.computation_id;
  return true;
}

void Coordinator::on_hello(ClientId client, const proto::MsgHeader&, std::string_view payload, TimePoint now) {
  const auto hello = read_payload<proto::HelloPayload>(payload);
  Worker w;
  w.id = next_worker_id_++;
  w.virt_pid = hello.virt_pid;
  w.real_pid = hello.real_pid;
  w.program = field(hello.progname);
  w.host = field(hello.hostname);
  w.unique_id = field(hello.unique_id);
  w.ckptdir = raw_field(hello.ckptdir);
  w.restart_generation = hello.is_restart ? hello.generation : 0;
  workers_[client] = w;
  had_worker_ = true;

  // Never reuse a generation a process has already written: a coordinator
  // started anew (after a crash) would otherwise number from 1 again, and
  // the new images would overwrite committed ones under the same names.
  generation_ = std::max(generation_, hello.generation);
  joined_generation_ = std::max(joined_generation_, hello.generation);
  proto::WelcomePayload welcome{computation_id_};
  send(client, MsgType::Welcome, generation_, w.id, payload_bytes(welcome));
  log(LogLevel::Info, describe(client) + " joined" +
                          (hello.is_restart ? " (restarted from generation " + std::to_string(hello.generation) + ")"
                                            : ""));

  if (hello.interval_request > 0 &&
      (interval_source_ == IntervalSource::None || interval_source_ == IntervalSource::Worker) &&
      hello.interval_request != interval_sec_)
    set_interval(hello.interval_request, IntervalSource::Worker);

  if (hello.is_restart) {
    restart_hello(client, hello, now);
  } else if (ckpt_ && ckpt_->target == Barrier::Suspended) {
    // A process forked while the computation suspends: its parent cannot
    // reach SUSPENDED before the fork returns, and the fork returns only
    // once the child is registered. The parent's image will know the child,
    // so the child must be in this checkpoint too.
    ckpt_->reached[client] = Barrier::Running;
    send_advance(client, Barrier::Suspended, ckpt_->generation, static_cast<uint32_t>(ckpt_->reached.size()));
    log(LogLevel::Info, describe(client) + " joins checkpoint " + std::to_string(ckpt_->generation) +
                            " while it suspends");
  }
}

void Coordinator::on_reached(ClientId client, const proto::MsgHeader& h, std::string_view payload, TimePoint now) {
  const auto b = static_cast<Barrier>(h.arg);
  if (restart_ && restart_->members.count(client)) {
    const uint64_t own = workers_.at(client).restart_generation;
    if (h.generation != restart_->generation && h.generation != own) {
      log(LogLevel::Debug, describe(client) + ": ignoring Reached for generation " + std::to_string(h.generation));
      return;
    }
    restart_reached(client, b, payload);
    return;
  }
  if (!ckpt_ || h.generation != ckpt_->generation || !ckpt_->reached.count(client)) {
    log(LogLevel::Debug, describe(client) + ": ignoring Reached(" + std::string(barrier_name(b)) +
                             ") for generation " + std::to_string(h.generation));
    return;
  }
  checkpoint_reached(client, h, payload, now);
}

void Coordinator::on_failed(ClientId client, const proto::MsgHeader& h, std::string_view payload, TimePoint now) {
  std::string text = one_line(payload);
  if (text.empty()) text = h.status != 0 ? std::strerror(h.status) : "unspecified error";
  if (restart_ && restart_->members.count(client)) {
    fail_restart(describe(client) + " reported: " + text);
    return;
  }
  if (!ckpt_ || h.generation != ckpt_->generation || !ckpt_->reached.count(client)) {
    log(LogLevel::Debug, describe(client) + ": ignoring Failed for generation " + std::to_string(h.generation));
    return;
  }
  fail_checkpoint(h.status != 0 ? h.status : EIO, describe(client) + " reported: " + text, now);
}

void Coordinator::on_warning(ClientId client, const proto::MsgHeader& h, std::string_view payload) {
  if (!ckpt_ || h.generation != ckpt_->generation || !ckpt_->reached.count(client)) {
    log(LogLevel::Debug, describe(client) + ": ignoring Warning for generation " + std::to_string(h.generation));
    return;
  }
  // Bounded: a process that floods us must not grow the reply for ever.
  constexpr size_t kMaxWarnings = 1000;
  std::string text = describe(client) + ": " + one_line(payload);
  log(LogLevel::Warn, "checkpoint " + std::to_string(ckpt_->generation) + ": " + text);
  if (ckpt_->warnings.size() < kMaxWarnings) ckpt_->warnings.push_back(std::move(text));
}

// ---------------------------------------------------------------------------
// Checkpoint

void Coordinator::request_checkpoint(std::optional<ClientId> waiter, std::string_view trigger, TimePoint now,
                                     bool then_kill) {
  if (ckpt_) {
    // The checkpoint already under way answers this request too; one that
    // would kill cannot join one whose processes already run again.
    if (then_kill && !ckpt_->then_kill) {
      if (waiter) reply(*waiter, EBUSY, 0, "cannot checkpoint and kill: checkpoint " +
                                               std::to_string(ckpt_->generation) + " is under way");
      return;
    }
    if (waiter) ckpt_->waiters.push_back(*waiter);
    return;
  }
  if (restart_) {
    if (waiter)
      reply(*waiter, EBUSY, 0,
            "cannot checkpoint: restart of generation " + std::to_string(restart_->generation) + " in progress");
    return;
  }
  if (workers_.empty()) {
    if (waiter) reply(*waiter, ENOENT, 0, "cannot checkpoint: no processes connected");
    return;
  }
  if (freezing_) {
    if (waiter) reply(*waiter, ECANCELED, 0, "cannot checkpoint: the processes are being killed");
    return;
  }

  if (config_.scan)
    for (const std::string& dir : checkpoint_dirs()) generation_ = std::max(generation_, config_.scan(dir).highest);
  if (generation_ >= proto::kMaxGeneration) {
    // A directory holding such a generation, say: never wrap round to reuse numbers.
    log(LogLevel::Error, "cannot checkpoint: generation numbers are used up (" + std::to_string(generation_) + ")");
    if (waiter) reply(*waiter, EOVERFLOW, 0, "cannot checkpoint: generation numbers are used up (" +
                                                 std::to_string(generation_) + "); use a new checkpoint directory");
    return;
  }
  // Assigned, not emplace()d: clang 14 (the fuzz build) rejects emplace() of
  // a nested struct with default member initializers.
  ckpt_ = Checkpoint{};
  ckpt_->generation = ++generation_;
  ckpt_->started = now;
  ckpt_->then_kill = then_kill;
  if (waiter) ckpt_->waiters.push_back(*waiter);
  for (const auto& [client, w] : workers_) ckpt_->reached[client] = Barrier::Running;
  log(LogLevel::Info, "checkpoint " + std::to_string(ckpt_->generation) + " started by " + std::string(trigger) +
                          ": " + plural(workers_.size(), "process"));
  continue_stopped_workers();
  advance_checkpoint(Barrier::Suspended);
}

void Coordinator::advance_checkpoint(Barrier next) {
  ckpt_->target = next;
  arm(TimerKind::CheckpointBarrier, config_.timeout);
  if (next == Barrier::Written) return;  // nothing to send: workers report when their writer is done
  const auto size = static_cast<uint32_t>(ckpt_->reached.size());
  std::string_view shared = next == Barrier::Drained ? std::string_view(ckpt_->shared) : std::string_view();
  for (const auto& [client, reached] : ckpt_->reached) send_advance(client, next, ckpt_->generation, size, shared);
  if (next == Barrier::Drained) ckpt_->shared.clear();
}

bool Coordinator::add_shared(std::string& to, std::string_view payload) {
  if (to.size() + payload.size() > proto::kMaxPayload - sizeof(proto::AdvancePayload)) return false;
  to.append(payload);
  return true;
}

void Coordinator::checkpoint_reached(ClientId client, const proto::MsgHeader& h, std::string_view payload,
                                     TimePoint now) {
  const auto b = static_cast<Barrier>(h.arg);
  if (b == Barrier::Written) {
    // The image writer runs in the background from CHECKPOINTED on and
    // reports by itself, so its report may overtake Reached(CHECKPOINTED)
    // and Reached(REFILLED), of its own process and of the others.
    if (ckpt_->target < Barrier::Checkpointed) {
      log(LogLevel::Warn, describe(client) + ": ignoring WRITTEN before CHECKPOINTED");
      return;
    }
    if (!ckpt_->script_path.empty()) return;
    const auto written = read_payload<proto::WrittenPayload>(payload);
    // As it is: the restart script quotes it, and must name that very file.
    ckpt_->written[client] = Image{raw_field(written.image_path), written.image_size};
    ProcessFigures& figures = figures_of(client);
    figures.image = raw_field(written.image_path);
    // Version 0: a worker older than the figures (a shorter payload reads as zeros).
    if (written.figures.version != 0) {
      if (const char* why = stats::check(written.figures))
        log(LogLevel::Warn, describe(client) + ": ignoring its checkpoint figures: " + why);
      else
        figures.written = written.figures;
    }
  } else if (b == ckpt_->target) {
    if (b == Barrier::Suspended && ckpt_->reached[client] != b && !add_shared(ckpt_->shared, payload)) {
      fail_checkpoint(E2BIG, "the processes shared more data than one message holds (" +
                                 std::to_string(proto::kMaxPayload) + " bytes)", now);
      return;
    }
    if (b == Barrier::Refilled && !payload.empty()) {
      const auto f = read_payload<stats::RefilledFigures>(payload);
      if (payload.size() < sizeof f || f.version != stats::kVersion || f.pause_ns > stats::kMaxNs)
        log(LogLevel::Warn, describe(client) + ": ignoring its pause: not a valid figure");
      else
        figures_of(client).pause_ns = f.pause_ns;
    }
    ckpt_->reached[client] = b;
    const auto suspended = [](const auto& r) { return r.second == Barrier::Suspended; };
    if (b == Barrier::Suspended && !ckpt_->frozen && std::all_of(ckpt_->reached.begin(), ckpt_->reached.end(), suspended))
      ckpt_->frozen = now;
  } else {
    log(LogLevel::Warn, describe(client) + ": ignoring Reached(" + std::string(barrier_name(b)) +
                            ") while waiting for " + std::string(barrier_name(ckpt_->target)));
    return;
  }
  maybe_finish_barrier();
}

ProcessFigures& Coordinator::figures_of(ClientId client) {
  auto [it, made] = ckpt_->figures.try_emplace(client);
  if (made)
    if (auto w = workers_.find(client); w != workers_.end()) {
      it->second.id = w->second.id;
      it->second.program = w->second.program;
      it->second.pid = w->second.virt_pid;
      it->second.host = w->second.host;
    }
  return it->second;
}

void Coordinator::maybe_finish_barrier() {
  if (!ckpt_ || !ckpt_->script_path.empty()) return;
  if (ckpt_->target == Barrier::Written) {
    if (ckpt_->written.size() == ckpt_->reached.size()) {
      cancel(TimerKind::CheckpointBarrier);
      write_script();
    }
    return;
  }
  for (const auto& [client, reached] : ckpt_->reached)
    if (reached != ckpt_->target) return;
  switch (ckpt_->target) {
    case Barrier::Suspended: advance_checkpoint(Barrier::Drained); break;
    case Barrier::Drained: advance_checkpoint(Barrier::Checkpointed); break;
    case Barrier::Checkpointed:
      if (!ckpt_->then_kill) {
        advance_checkpoint(Barrier::Refilled);
        break;
      }
      // The processes stay suspended until the generation is committed.
      advance_checkpoint(Barrier::Written);
      maybe_finish_barrier();
      break;
    case Barrier::Refilled:
      advance_checkpoint(Barrier::Written);
      maybe_finish_barrier();  // every image may already be written
      break;
    default: break;
  }
}

void Coordinator::write_script() {
  RestartScriptInfo info;
  info.generation = ckpt_->generation;
  info.when = format_time(ckpt_->started);
  info.coord_port = config_.port;
  info.restart_program = config_.restart_program;
  // Restarted processes reach us through "localhost" only if they all ran
  // here. A computation on several hosts names each image's host.
  bool all_local = true;
  std::set<std::string> hosts;
  for (const auto& [client, image] : ckpt_->written) {
    info.images.push_back(image.path);
    auto w = workers_.find(client);
    const std::string host = w != workers_.end() ? w->second.host : std::string();
    if (host != config_.hostname) all_local = false;
    info.image_hosts.push_back(host);
    hosts.insert(host);
  }
  if (hosts.size() < 2 || hosts.count("")) info.image_hosts.clear();
  info.coord_host = all_local ? "localhost" : config_.hostname;

  std::filesystem::path dir = config_.ckptdir;
  if (dir.empty()) dir = std::filesystem::path(info.images.front()).parent_path();
  ckpt_->script_path = generation_script_path(dir.string(), ckpt_->generation);
  ckpt_->latest_script = (dir / kRestartScriptName).string();
  emit(WriteScript{ckpt_->generation, ckpt_->script_path, ckpt_->latest_script, render_restart_script(info)});
}

// Its script, and the images it names: only files named as images of that
// generation (a script is a file anyone with access to the directory could
// have edited).
void Coordinator::remove_generation(uint64_t generation, const Committed& files, std::vector<std::string>& paths) {
  paths.push_back(generation_script_path(files.dir, generation));
  for (const std::string& image : files.images) {
    const std::string name = std::filesystem::path(image).filename().string();
    names::ImageName parsed;
    if (names::parse_image_name(name.c_str(), &parsed) && !parsed.temporary && parsed.generation == generation)
      paths.push_back(image);
  }
}

// Where this checkpoint's images go: the --ckptdir, or each process's own.
std::set<std::string> Coordinator::checkpoint_dirs() const {
  if (!config_.ckptdir.empty()) return {config_.ckptdir};
  std::set<std::string> dirs;
  for (const auto& [client, w] : workers_)
    if (!w.ckptdir.empty()) dirs.insert(w.ckptdir);
  return dirs;
}

void Coordinator::fail_checkpoint(int status, const std::string& why, TimePoint now) {
  Checkpoint failed = std::move(*ckpt_);
  ckpt_.reset();
  cancel(TimerKind::CheckpointBarrier);
  const std::string reason = "checkpoint " + std::to_string(failed.generation) + " failed: " + why;
  plugin_barriers_.clear();
  for (const auto& [client, reached] : failed.reached) send(client, MsgType::Abort, failed.generation, 0);
  for (ClientId waiter : failed.waiters) reply(waiter, status, failed.generation, reason);
  last_ = LastCheckpoint{failed.generation, failed.started, elapsed(failed.started, now), false, reason, {}, 0, 0, {},
                         nullptr};
  log(LogLevel::Error, reason);
}

// The checkpoint under way fails with `why`; unless it was the last try, or
// nobody is left, a new one starts at once and answers the same waiters,
// with the failure among its warnings.
void Coordinator::retry_checkpoint(const std::string& why, TimePoint now) {
  const uint64_t failed = ckpt_->generation;
  const unsigned attempt = ckpt_->attempt;
  const bool then_kill = ckpt_->then_kill;
  if (ckpt_->reached.empty()) {
    fail_checkpoint(ECONNRESET, "every process exited before suspending", now);
    return;
  }
  const bool again = attempt < kMaxCheckpointAttempts;
  std::vector<ClientId> waiters;
  if (again) waiters = std::exchange(ckpt_->waiters, {});
  fail_checkpoint(ECONNRESET, why, now);
  if (!again) return;
  request_checkpoint(std::nullopt, "a retry of checkpoint " + std::to_string(failed), now, then_kill);
  const std::string reason = "checkpoint " + std::to_string(failed) + " failed: " + why;
  if (!ckpt_) {
    for (ClientId waiter : waiters) reply(waiter, ECONNRESET, failed, reason);
    return;
  }
  ckpt_->waiters = std::move(waiters);
  ckpt_->attempt = attempt + 1;
  ckpt_->warnings.push_back(reason + "; retried as checkpoint " + std::to_string(ckpt_->generation));
}

// ---------------------------------------------------------------------------
// Restart

void Coordinator::restart_hello(ClientId client, const proto::HelloPayload& hello, TimePoint now) {
  generation_ = std::max(generation_, hello.generation);
  // The generation in use: kept until enough newer ones are committed.
  if (hello.generation > 0 && !committed_.count(hello.generation)) {
    const std::string& own_dir = workers_.at(client).ckptdir;
    committed_[hello.generation].dir = config_.ckptdir.empty() ? own_dir : config_.ckptdir;
  }
  // Newer ones this coordinator committed belong to a run abandoned now.
  for (auto it = committed_.upper_bound(hello.generation); it != committed_.end();)
    abandoned_.insert(committed_.extract(it++));
  if (restart_ && restart_->target != Barrier::Running) {
    // Its group already runs without it: the process has no peers to
    // rejoin, and left alone it would wait forever.
    log(LogLevel::Error, describe(client) + " rejoined after the restart of generation " +
                             std::to_string(restart_->generation) + " went ahead without it; killing it");
    send(client, MsgType::Kill, generation_, 0);
    return;
  }
  const Worker& w = workers_.at(client);
  if (restart_ && !w.unique_id.empty() && restart_->unique_ids.count(w.unique_id)) {
    // The same image restarted twice (a host's share run twice, two hosts
    // mapped onto one's images): one of them must go, and it is the later.
    log(LogLevel::Error, describe(client) + " was restarted already (process " + w.unique_id +
                             " rejoined twice); killing this copy");
    send(client, MsgType::Kill, generation_, 0);
    return;
  }
  if (!restart_) {
    restart_ = Restart{};
    restart_->generation = hello.generation;
    restart_->expected = std::max<uint32_t>(1, hello.computation_size);
    restart_->started = now;
    arm(TimerKind::Restart, config_.timeout);
  }
  if (hello.computation_size != restart_->expected)
    log(LogLevel::Warn, describe(client) + " announces " + std::to_string(hello.computation_size) +
                            " processes, the first restarted process " + std::to_string(restart_->expected));
  restart_->members.insert(client);
  restart_->unique_ids.insert(w.unique_id);
  restart_->hosts.insert(w.host);
  if (restart_->members.size() >= restart_->expected) begin_restart_barriers();
}

void Coordinator::begin_restart_barriers() {
  restart_->target = Barrier::Restarted;
  restart_->reached.clear();
  arm(TimerKind::Restart, config_.timeout);
  const auto size = static_cast<uint32_t>(restart_->members.size());
  for (ClientId c : restart_->members) send_advance(c, Barrier::Restarted, restart_->generation, size);
  log(LogLevel::Info, "restart of generation " + std::to_string(restart_->generation) + ": " +
                          plural(size, "process") + " rejoined");
}

void Coordinator::restart_reached(ClientId client, Barrier b, std::string_view payload) {
  if (b != restart_->target) {
    log(LogLevel::Warn, describe(client) + ": ignoring Reached(" + std::string(barrier_name(b)) +
                            ") while the restart waits for " + std::string(barrier_name(restart_->target)));
    return;
  }
  if (b == Barrier::Restarted && restart_->reached.insert(client).second && !add_shared(restart_->shared, payload)) {
    fail_restart("the processes shared more data than one message holds (" + std::to_string(proto::kMaxPayload) +
                 " bytes)");
    return;
  }
  if (b == Barrier::Refilled && !payload.empty()) {
    const auto f = read_payload<stats::RestartFigures>(payload);
    if (payload.size() < sizeof f || f.version != stats::kVersion || f.lazy > 1 || f.running_ns > stats::kMaxNs)
      log(LogLevel::Warn, describe(client) + ": ignoring its restart figures: not valid");
    else
      restart_->figures[client] = f;
  }
  restart_->reached.insert(client);
  maybe_finish_restart_barrier();
}

void Coordinator::maybe_finish_restart_barrier() {
  if (!restart_ || restart_->reached.size() < restart_->members.size()) return;

  if (restart_->target == Barrier::Restarted) {
    restart_->target = Barrier::Refilled;
    restart_->reached.clear();
    arm(TimerKind::Restart, config_.timeout);
    const auto size = static_cast<uint32_t>(restart_->members.size());
    for (ClientId c : restart_->members) send_advance(c, Barrier::Refilled, restart_->generation, size, restart_->shared);
    restart_->shared.clear();
    return;
  }
  cancel(TimerKind::Restart);
  LastRestart done{restart_->generation, true, restart_->members.size(), {}, {}, false};
  // Complete only when every process said: the slowest is the restart's.
  bool all_reported = true;
  for (ClientId c : restart_->members) {
    auto f = restart_->figures.find(c);
    if (f == restart_->figures.end()) {
      all_reported = false;
      continue;
    }
    done.running_ns = std::max(done.running_ns.value_or(0), f->second.running_ns);
    done.lazy = done.lazy || f->second.lazy;
  }
  if (!all_reported) done.running_ns.reset();
  char figures[96] = "";
  if (done.running_ns)
    std::snprintf(figures, sizeof figures, "; running %.1f ms after ckpt_restart started, %s", ms(*done.running_ns),
                  done.lazy ? "memory read on first touch" : "memory fully loaded");
  log(LogLevel::Info, "restart of generation " + std::to_string(restart_->generation) + " complete: " +
                          plural(restart_->members.size(), "process") + " running" +
                          (restart_->hosts.size() > 1 ? " on " + plural(restart_->hosts.size(), "host") : "") +
                          figures);
  ++restarts_finished_;
  last_restart_ = std::move(done);
  restart_.reset();
}

void Coordinator::fail_restart(const std::string& why) {
  // A partly restored computation cannot run correctly: its processes would
  // wait forever on peers that are not coming. Kill the rest of it.
  log(LogLevel::Error, "restart of generation " + std::to_string(restart_->generation) + " failed: " + why +
                           "; killing its remaining processes");
  for (ClientId c : restart_->members) send(c, MsgType::Kill, restart_->generation, 0);
  plugin_barriers_.clear();
  cancel(TimerKind::Restart);
  ++restarts_finished_;
  last_restart_ = LastRestart{restart_->generation, false, restart_->members.size(),
                              "restart of generation " + std::to_string(restart_->generation) + " failed: " + why,
                              {}, false};
  restart_.reset();
}

// ---------------------------------------------------------------------------
// Plugin barriers

bool Coordinator::in_plugin_step(ClientId client) const {
  if (restart_ && restart_->members.count(client))
    return restart_->target != Barrier::Running && !restart_->reached.count(client);
  if (ckpt_) {
    auto it = ckpt_->reached.find(client);
    return it != ckpt_->reached.end() && ckpt_->target != Barrier::Written && it->second != ckpt_->target;
  }
  return false;
}

void Coordinator::on_plugin_barrier(ClientId client, const proto::MsgHeader& h, std::string_view payload) {
  const std::string name = printable(std::string(payload.substr(0, proto::kMaxPluginBarrierName)));
  const std::string host = h.arg == proto::kPluginBarrierHost ? workers_.at(client).host : std::string();
  if (!in_plugin_step(client)) {
    // Outside a checkpoint or restart nobody else takes part: it passes alone.
    log(LogLevel::Debug, describe(client) + ": plugin barrier '" + name + "' outside a checkpoint or restart");
    send(client, MsgType::PluginBarrierReleased, h.generation, h.arg, std::string(payload));
    return;
  }
  log(LogLevel::Debug, describe(client) + " at plugin barrier '" + name + "'");
  // A process waits at one barrier at a time: a peer cannot pile up names.
  for (auto& [key, waiting] : plugin_barriers_) waiting.erase(client);
  plugin_barriers_[{host, std::string(payload.substr(0, proto::kMaxPluginBarrierName))}].insert(client);
}

void Coordinator::release_plugin_barriers() {
  for (auto it = plugin_barriers_.begin(); it != plugin_barriers_.end();) {
    if (it->second.empty()) {  // its waiters left
      it = plugin_barriers_.erase(it);
      continue;
    }
    const auto& [host, name] = it->first;
    bool complete = true;
    for (const auto& [client, w] : workers_)
      if ((host.empty() || w.host == host) && in_plugin_step(client) && !it->second.count(client)) complete = false;
    if (!complete) {
      ++it;
      continue;
    }
    const uint64_t generation = ckpt_ ? ckpt_->generation : restart_ ? restart_->generation : 0;
    const uint64_t scope = host.empty() ? proto::kPluginBarrierGlobal : proto::kPluginBarrierHost;
    for (ClientId c : it->second) send(c, MsgType::PluginBarrierReleased, generation, scope, name);
    log(LogLevel::Debug, "plugin barrier '" + printable(name) + "' released");
    it = plugin_barriers_.erase(it);
  }
}

// ---------------------------------------------------------------------------
// ckpt_command

void Coordinator::on_command(ClientId client, const proto::MsgHeader& h, TimePoint now) {
  switch (static_cast<MsgType>(h.type)) {
    case MsgType::CmdCheckpoint:
      request_checkpoint(client, "ckpt_command", now, h.arg == proto::kCheckpointThenKill);
      break;
    case MsgType::CmdStatus: reply(client, 0, generation_, status_json()); break;
    case MsgType::CmdList: reply(client, 0, generation_, list_json()); break;
    case MsgType::CmdInterval:
      set_interval(static_cast<unsigned>(h.arg), IntervalSource::Command);
      reply(client, 0, generation_, json_text({{"interval", interval_sec_}}));
      break;
    case MsgType::CmdKill: {
      const size_t n = workers_.size();
      if (ckpt_) fail_checkpoint(ECANCELED, "processes killed by ckpt_command --kill", now);
      kill_all(true);
      reply(client, 0, generation_, json_text({{"killed", static_cast<uint64_t>(n)}}));
      break;
    }
    case MsgType::CmdQuit: {
      const size_t n = workers_.size();
      if (ckpt_) fail_checkpoint(ECANCELED, "coordinator quit by ckpt_command --quit", now);
      kill_all(false);  // we leave at once: no waiting for freezes
      reply(client, 0, generation_, json_text({{"killed", static_cast<uint64_t>(n)}, {"quit", true}}));
      log(LogLevel::Info, "quitting on request of ckpt_command");
      exiting_ = true;
      emit(Exit{0});
      break;
    }
    default: break;
  }
}

// A parent that outlives its child by a moment sees the child killed and
// acts on it: make deletes the target a compiler was writing, which a
// restart then misses. So every process first stops its threads (Freeze);
// only when all have (or kFreezeTimeout passed) does the Kill go out.
void Coordinator::kill_all(bool freeze_first) {
  if (restart_) {
    cancel(TimerKind::Restart);
    restart_.reset();
  }
  if (freeze_first && !workers_.empty()) {
    if (freezing_) return;  // a kill is under way already
    freezing_.emplace();
    continue_stopped_workers();
    for (const auto& [client, w] : workers_) {
      send(client, MsgType::Freeze, generation_, 0);
      freezing_->insert(client);
    }
    arm(TimerKind::Kill, kFreezeTimeout);
    log(LogLevel::Info, "freezing " + plural(workers_.size(), "process") + " to kill them");
    return;
  }
  for (const auto& [client, w] : workers_) send(client, MsgType::Kill, generation_, 0);
  log(LogLevel::Info, "killing " + plural(workers_.size(), "process"));
}

void Coordinator::continue_stopped_workers() {
  ContinueStopped wake;
  for (const auto& [client, w] : workers_) wake.workers.push_back({client, w.real_pid});
  emit(std::move(wake));
}

void Coordinator::finish_kill() {
  freezing_.reset();
  cancel(TimerKind::Kill);
  kill_all(false);
}

// ---------------------------------------------------------------------------
// Helpers

void Coordinator::set_interval(unsigned seconds, IntervalSource source) {
  interval_sec_ = seconds;
  interval_source_ = source;
  if (seconds > 0)
    arm(TimerKind::Interval, std::chrono::seconds(seconds));
  else
    cancel(TimerKind::Interval);
  log(LogLevel::Info, seconds > 0 ? "checkpoint interval set to " + std::to_string(seconds) + " s"
                                  : std::string("periodic checkpoints turned off"));
}

void Coordinator::arm(TimerKind kind, std::chrono::milliseconds delay) {
  const uint64_t token = next_token_++;
  timer_tokens_[kind] = token;
  emit(ArmTimer{kind, token, delay});
}

void Coordinator::cancel(TimerKind kind) {
  if (timer_tokens_.erase(kind) > 0) emit(CancelTimer{kind});
}

void Coordinator::reply(ClientId client, int status, uint64_t generation, std::string payload) {
  send(client, MsgType::CmdReply, generation, 0, std::move(payload), status);
  emit(Close{client});
}

void Coordinator::send(ClientId to, MsgType type, uint64_t generation, uint64_t arg, std::string payload,
                       int32_t status) {
  const auto header = proto::make_header(type, static_cast<uint32_t>(payload.size()), generation, arg, status);
  emit(Send{to, header, std::move(payload)});
}

void Coordinator::send_advance(ClientId to, Barrier b, uint64_t generation, uint32_t computation_size,
                               std::string_view shared) {
  proto::AdvancePayload p{};
  p.computation_size = computation_size;
  std::strncpy(p.ckptdir, config_.ckptdir.c_str(), sizeof p.ckptdir - 1);
  send(to, MsgType::Advance, generation, static_cast<uint64_t>(b), payload_bytes(p).append(shared));
}

void Coordinator::log(LogLevel level, std::string text) { emit(Log{level, printable(std::move(text))}); }

void Coordinator::check_exit_on_last() {
  if (config_.exit_on_last && had_worker_ && workers_.empty() && !exiting_) {
    log(LogLevel::Info, "last process disconnected; exiting (--exit-on-last)");
    exiting_ = true;
    emit(Exit{0});
  }
}

std::string Coordinator::describe(ClientId client) const {
  auto it = workers_.find(client);
  if (it == workers_.end()) return "connection " + std::to_string(client);
  const Worker& w = it->second;
  return "process " + std::to_string(w.id) + " (" + w.program + ", pid " + std::to_string(w.virt_pid) + " on " +
         w.host + ")";
}

std::string Coordinator::worker_state(ClientId client) const {
  if (restart_ && restart_->members.count(client)) {
    if (restart_->target == Barrier::Running) return "RESTARTING";
    // The last barrier this process reached.
    if (restart_->reached.count(client)) return std::string(barrier_name(restart_->target));
    return restart_->target == Barrier::Restarted ? "RESTARTING" : "RESTARTED";
  }
  if (ckpt_) {
    auto it = ckpt_->reached.find(client);
    if (it != ckpt_->reached.end()) {
      if (ckpt_->written.count(client)) return "WRITTEN";
      return std::string(barrier_name(it->second));
    }
  }
  return "RUNNING";
}

std::string Coordinator::status_json() const {
  const char* state = restart_ ? "RESTARTING" : ckpt_ ? "CHECKPOINTING" : workers_.empty() ? "IDLE" : "RUNNING";
  Json o = {{"host", config_.hostname},
            {"port", static_cast<unsigned>(config_.port)},
            {"pid", config_.pid},
            {"processes", static_cast<uint64_t>(workers_.size())},
            {"state", state},
            {"interval", interval_sec_},
            {"ckptdir", config_.ckptdir},
            {"timeout", static_cast<int64_t>(config_.timeout.count())},
            {"generation", generation_}};
  if (ckpt_) o["checkpoint_in_progress"] = ckpt_->generation;
  if (last_) {
    Json l = {{"generation", last_->generation},
              {"time", format_time(last_->time)},
              {"unix_time", static_cast<int64_t>(Clock::to_time_t(last_->time))},
              {"duration_ms", static_cast<int64_t>(last_->duration.count())},
              {"ok", last_->ok}};
    if (last_->ok) {
      l["images"] = static_cast<uint64_t>(last_->images);
      l["bytes"] = last_->bytes;
      l["script"] = last_->script;
      l["warnings"] = last_->warnings;
      l["stats"] = last_->figures;
    } else {
      l["reason"] = last_->reason;
    }
    o["last_checkpoint"] = std::move(l);
  }
  o["restarts_finished"] = restarts_finished_;
  if (restart_)
    o["restart_in_progress"] = {{"generation", restart_->generation},
                                {"rejoined", static_cast<uint64_t>(restart_->members.size())},
                                {"expected", restart_->expected}};
  if (last_restart_) {
    Json r = {{"generation", last_restart_->generation},
              {"ok", last_restart_->ok},
              {"processes", static_cast<uint64_t>(last_restart_->processes)}};
    if (!last_restart_->ok) r["reason"] = last_restart_->reason;
    if (last_restart_->ok) {
      r["running_ms"] = last_restart_->running_ns ? Json(ms(*last_restart_->running_ns)) : Json(nullptr);
      // Loaded when it runs, unless pages come from the images on first touch.
      r["loaded_ms"] = last_restart_->running_ns && !last_restart_->lazy ? r["running_ms"] : Json(nullptr);
      r["lazy"] = last_restart_->lazy;
    }
    o["last_restart"] = std::move(r);
  }
  return json_text(o);
}

std::string Coordinator::list_json() const {
  Json list = Json::array();
  for (const auto& [client, w] : workers_)
    list.push_back({{"id", w.id},
                    {"program", w.program},
                    {"pid", w.virt_pid},
                    {"real_pid", w.real_pid},
                    {"host", w.host},
                    {"state", worker_state(client)},
                    {"unique_id", w.unique_id}});
  return json_text({{"processes", list}});
}

}  // namespace ckpt::coord
