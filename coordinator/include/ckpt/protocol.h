// The wire protocol between libckpt (in every process), ckpt_coordinator and
// ckpt_command. One header, shared by all three.
//
// Every message is a fixed MsgHeader followed by `payload_len` bytes. Payloads
// are plain structs (below) or UTF-8 text, so the checkpoint thread inside the
// application can build and parse them without allocating.
#pragma once

#include <stdint.h>

#include "ckpt/checkpoint_stats.h"

namespace ckpt::proto {

inline constexpr uint32_t kMagic = 0x54504b43;  // "CKPT" little-endian
// 2: every connection authenticates first (ckpt/auth.h).
inline constexpr uint16_t kVersion = 2;
inline constexpr uint16_t kDefaultPort = 7779;
inline constexpr uint32_t kMaxPayload = 1u << 20;
// Committed generations kept (--keep): by default two, so that the one in use
// is never the only one.
inline constexpr uint32_t kDefaultKeep = 2;
// The largest generation number: a checkpoint every millisecond for 30,000
// years. A peer that reports more is refused, and the coordinator never
// numbers past it (no wrap-around that would reuse committed numbers).
inline constexpr uint64_t kMaxGeneration = uint64_t{1} << 50;
inline constexpr uint32_t kMaxKeep = 64;

enum class MsgType : uint16_t {
  // worker (libckpt) -> coordinator
  Hello = 1,              // first message of a worker; payload HelloPayload
  // arg = Barrier reached; payload WrittenPayload for Barrier::Written, and for
  // Barrier::Refilled stats::RefilledFigures (a checkpoint's) or
  // stats::RestartFigures (a restart's), none from a libckpt older than them
  Reached = 2,
  Failed = 3,             // this process could not complete the checkpoint; payload: reason text
  RequestCheckpoint = 4,  // the application called ckpt_checkpoint()
  Exec = 5,               // the process exec'ed another program and kept its connection; payload ExecPayload
  Frozen = 6,             // answer to Freeze: the process's threads are stopped
  Warning = 7,            // the checkpoint goes on, but something was saved as a placeholder; payload: text
  // A plugin's barrier inside an event (ckpt_plugin_barrier, DMTCP's
  // dmtcp_global_barrier): payload the barrier's name (at most
  // kMaxPluginBarrierName bytes); arg kPluginBarrierHost: only the processes
  // on the sender's host take part.
  PluginBarrier = 10,

  // any client -> coordinator: the handshake before anything else (ckpt/auth.h)
  AuthStart = 8,  // payload auth::AuthStartPayload
  AuthProof = 9,  // payload auth::AuthProofPayload

  // coordinator -> worker
  Welcome = 20,    // arg = worker id assigned by the coordinator; payload WelcomePayload
  Advance = 21,    // arg = Barrier to move to; payload AdvancePayload
  Abort = 22,      // abandon the checkpoint in progress; resume if suspended
  // `generation` is committed (its restart script is written). Payload: the
  // generations kept, uint64_t each, ascending (at most kMaxKeep): every image
  // of this process with a generation up to `generation` that is not among
  // them goes, and so do its writers' stray temporary files.
  Committed = 23,
  Kill = 24,       // terminate the process now
  Freeze = 25,     // stop the process's threads and answer Frozen: a Kill follows
  // Every process taking part has reached the PluginBarrier named in the
  // payload (arg as the PluginBarrier's).
  PluginBarrierReleased = 28,

  // coordinator -> any client, during the handshake
  AuthChallenge = 26,  // payload auth::AuthChallengePayload
  AuthRefused = 27,    // the client's proof (or its user) was refused; payload: reason text; the connection closes

  // ckpt_command -> coordinator (the first message on a command connection)
  CmdCheckpoint = 40,  // reply once every image is written (or the checkpoint failed); arg: kCheckpointThenKill or 0
  CmdStatus = 41,
  CmdList = 42,
  CmdInterval = 43,    // arg = seconds, 0 turns periodic checkpoints off
  CmdKill = 44,
  CmdQuit = 45,

  // coordinator -> ckpt_command
  CmdReply = 60,  // status 0 = success; payload: JSON text (or an error message if status != 0)
};

// CmdCheckpoint's arg: the processes never run again after the snapshot;
// once the generation is committed they are killed (CRIU's dump).
inline constexpr uint64_t kCheckpointThenKill = 1;

// PluginBarrier: who takes part. A barrier waits for every process of the
// checkpoint or restart under way (or, with kPluginBarrierHost, those on the
// caller's host) that has not yet answered the coordinator's current barrier:
// one that answers without calling it has no plugin that calls it, and is not
// waited for.
inline constexpr uint64_t kPluginBarrierGlobal = 0;
inline constexpr uint64_t kPluginBarrierHost = 1;
inline constexpr uint32_t kMaxPluginBarrierName = 255;

// The global states of one checkpoint (GUIDE §1). The coordinator sends
// Advance(X); each worker does the work of X and answers Reached(X); when all
// have answered the coordinator moves on. `Written` is reported by each
// worker when its background image writer finishes; `Restarted` is the first
// barrier after a restart.
enum class Barrier : uint32_t {
  Running = 0,
  Suspended = 1,     // user threads stopped
  Drained = 2,       // in-flight data pulled out of pipes and sockets
  Checkpointed = 3,  // memory snapshot taken (fork); the image is written in the background
  Refilled = 4,      // drained data put back; user threads run again
  Written = 5,       // image durable on disk (reported asynchronously)
  Restarted = 6,     // process restored from its image, waiting to run
};

struct MsgHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t type;  // MsgType
  uint32_t payload_len;
  int32_t status;       // 0 = ok; otherwise an errno-like code
  uint64_t generation;  // checkpoint generation the message refers to
  uint64_t arg;         // type-dependent
};
static_assert(sizeof(MsgHeader) == 32);

struct HelloPayload {
  int32_t real_pid;
  int32_t virt_pid;
  uint32_t is_restart;          // 1 if this process was restored from an image
  uint32_t computation_size;    // on restart: number of processes the computation had
  uint32_t interval_request;    // ckpt_launch --interval; 0 = no request
  uint32_t reserved;
  uint64_t generation;          // on restart: generation of the image restored from
  char hostname[64];
  char progname[64];
  char unique_id[64];           // stable across restarts: names the image file
  char ckptdir[1024];           // where this process writes images by default
  uint64_t computation_id;      // the computation it belongs to (Welcome), 0 if it has not learnt it yet
};

// Welcome's payload: the id of the computation the coordinator runs. A
// fresh coordinator makes one at its first new process; restored processes
// bring theirs back. Every image records it, and a restart takes one
// computation's images only.
struct WelcomePayload {
  uint64_t computation_id;
};

struct ExecPayload {
  char progname[64];  // the new program's name
};

struct AdvancePayload {
  uint32_t computation_size;  // number of processes taking part in this checkpoint
  uint32_t reserved;
  char ckptdir[1024];         // non-empty: the coordinator's --ckptdir overrides the worker's
};

struct WrittenPayload {
  uint64_t image_size;
  char image_path[4096];
  // Appended: an older worker's payload ends before it (version 0).
  stats::WrittenFigures figures;
};

inline MsgHeader make_header(MsgType type, uint32_t payload_len = 0, uint64_t generation = 0,
                             uint64_t arg = 0, int32_t status = 0) {
  return MsgHeader{kMagic, kVersion, static_cast<uint16_t>(type), payload_len, status, generation, arg};
}

inline bool header_is_valid(const MsgHeader& h) {
  return h.magic == kMagic && h.version == kVersion && h.payload_len <= kMaxPayload;
}

}  // namespace ckpt::proto
