// Data that plugins share with every process of the computation during a
// checkpoint or a restart (ckpt_share, ckpt_for_each_shared in plugin.h).
// What the plugins of a process share during PRE_CHECKPOINT (or
// CKPT_EVENT_RESTART) rides on its Reached(SUSPENDED) (or
// Reached(RESTARTED)); the coordinator gathers every process's and sends the
// whole with Advance(DRAINED) (or Advance(REFILLED)). Records: a
// SharedRecord header (the plugin's name, the data's length), then the data.
#include <string.h>

#include "ckpt/frozen_io.h"
#include "ckpt/plugin.h"
#include "core.h"

namespace ckpt {
namespace {

struct SharedRecord {
  char name[32];
  uint32_t len;
  uint32_t reserved;
};

MappedBuffer g_out;  // this process's, until it is sent
MappedBuffer g_in;   // everybody's, from the coordinator

}  // namespace

const char* shared_out(size_t* len) {
  *len = g_out.size();
  return g_out.data();
}

void shared_out_clear() { g_out.release(); }

void shared_in_set(const char* head, size_t head_len, const char* tail, size_t tail_len) {
  g_in.release();
  if (g_in.append(head, head_len) == MappedBuffer::kFailed || g_in.append(tail, tail_len) == MappedBuffer::kFailed)
    g_in.release();
}

void shared_in_clear() { g_in.release(); }

}  // namespace ckpt

using ckpt::SharedRecord;

extern "C" int ckpt_share(const char* name, const void* data, size_t len) {
  if (!name || strlen(name) >= sizeof(SharedRecord::name) || len > (1u << 20)) return -1;
  SharedRecord r = {};
  memcpy(r.name, name, strlen(name));
  r.len = static_cast<uint32_t>(len);
  size_t at = ckpt::g_out.append(&r, sizeof r);
  if (at == ckpt::MappedBuffer::kFailed) return -1;
  if (ckpt::g_out.append(data, len) == ckpt::MappedBuffer::kFailed) {
    ckpt::g_out.truncate(at);
    return -1;
  }
  return 0;
}

extern "C" int ckpt_for_each_shared(const char* name, int (*fn)(const void* data, size_t len, void* arg), void* arg) {
  // The coordinator passes the bytes on as the processes sent them: check
  // every length anyway.
  const char* p = ckpt::g_in.data();
  size_t left = ckpt::g_in.size();
  while (left >= sizeof(SharedRecord)) {
    SharedRecord r;
    memcpy(&r, p, sizeof r);
    if (r.len > left - sizeof r) break;
    r.name[sizeof r.name - 1] = '\0';
    if (strcmp(r.name, name) == 0 && fn(p + sizeof r, r.len, arg)) break;
    p += sizeof r + r.len;
    left -= sizeof r + r.len;
  }
  return 0;
}
