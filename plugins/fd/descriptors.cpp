#include "descriptors.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "classify.h"
#include "contents.h"
#include "holders.h"
#include "pipes.h"
#include "ckpt/frozen_io.h"
#include "process_state.h"
#include "std_streams.h"

namespace ckpt::fd {
namespace {

using image::FdKind;
using image::FdRecord;
using image::FdSectionHeader;
using image::FilePolicy;

// Reused from one checkpoint to the next; released after each.
MappedBuffer g_section;  // FdSectionHeader, then the FdRecords
MappedArray<int> g_fds;
MappedArray<Peer> g_peers;
HolderTable g_holders;

void sort_ints(int* a, size_t n) {
  for (size_t i = 1; i < n; ++i)
    for (size_t j = i; j > 0 && a[j - 1] > a[j]; --j) {
      int t = a[j];
      a[j] = a[j - 1];
      a[j - 1] = t;
    }
}

Holder holder_of(const Peer& self, const FdRecord& r) {
  uint32_t access = S_ISFIFO(r.mode) ? access_of(r.status_flags) : (kRead | kWrite);
  return {self.vpid, self.real, r.fd, access, r.dev, r.ino, r.mode, 0};
}

FdRecord* records() { return g_section.at<FdRecord>(sizeof(FdSectionHeader)); }

bool needs_contents(const FdRecord& r) {
  return r.kind == FdKind::Deleted ||
         (r.kind == FdKind::File && (r.policy == FilePolicy::Replace || r.policy == FilePolicy::Substitute));
}

void release_all() {
  g_section.release();
  g_fds.release();
  g_peers.release();
  g_holders.release();
}

// "<what> PATH (fd N)": the checkpoint cannot keep this descriptor's data.
void fail_for(const FdRecord& r, const char* what) {
  ShortText fd_text;
  fd_text.add(" (fd ").dec(r.fd).add(")");
  char text[4300];
  MessageText(text, sizeof text).add(what).add(r.path).add(fd_text.c_str());
  ckpt_fail_checkpoint(text);
}

// A descriptor classify() cannot save: another plugin's (claimed), a
// placeholder with a warning (losses accepted), or the end of this checkpoint.
void settle_unsaveable(FdRecord& r) {
  if (ckpt_fd_claimed(r.fd)) {
    r.kind = FdKind::Elsewhere;
    return;
  }
  char what[160];
  describe_kind(r, what, sizeof what);
  ShortText fd_text;
  fd_text.add("fd ").dec(r.fd);
  char text[400];
  MessageText(text, sizeof text)
      .add(fd_text.c_str())
      .add(ckpt_loss_accepted() ? " (" : " is ")
      .add(what)
      .add(ckpt_loss_accepted() ? ") was not saved: after a restart it is a placeholder "
                                  "(reads see end-of-file, writes fail with EPIPE)"
                                : ", which ckpt cannot checkpoint");
  if (ckpt_loss_accepted()) ckpt_checkpoint_warning(text);
  else ckpt_fail_checkpoint(text);
}

}  // namespace

void checkpoint_descriptors(const PolicyTable& policies) {
  release_all();
  stdio_clear_bindings();
  const char* failure = nullptr;
  if (list_computation_processes(g_peers) < 1) failure = "out of memory for the list of the computation's processes";
  else if (g_section.append(nullptr, sizeof(FdSectionHeader)) == MappedBuffer::kFailed)
    failure = "out of memory for the descriptor table";
  else if (list_fds(0, g_fds) < 0) failure = "cannot list /proc/self/fd";
  if (failure) {
    ckpt_fail_checkpoint(failure);
    release_all();
    return;
  }
  const Peer self = g_peers[0];
  sort_ints(g_fds.data(), g_fds.size());

  // 1. This process's descriptors, as they are.
  uint32_t count = 0;
  for (size_t i = 0; i < g_fds.size(); ++i) {
    int fd = g_fds[i];
    if (ckpt_is_protected_fd(fd)) continue;  // libckpt's own
    size_t at = g_section.append(nullptr, sizeof(FdRecord));
    FdRecord* r = at == MappedBuffer::kFailed ? nullptr : g_section.at<FdRecord>(at);
    if (r && !describe_fd(fd, *r)) {  // closed since the listing: the listing's own descriptor
      g_section.truncate(at);
      continue;
    }
    if (!r || !g_holders.add(holder_of(self, *r))) {
      ckpt_fail_checkpoint("out of memory for the descriptor table");
      release_all();
      return;
    }
    ++count;
  }
  // 2. Everybody else's, for sharing and for pipe ends.
  for (size_t p = 1; p < g_peers.size(); ++p)
    if (g_holders.add_process(g_peers[p]) == -ENOMEM) {
      ckpt_fail_checkpoint("out of memory for the descriptors of the computation");
      release_all();
      return;
    }

  // 3. What each one is, and who speaks for its description.
  FdRecord* rec = records();
  for (uint32_t i = 0; i < count; ++i) {
    FdRecord& r = rec[i];
    r.desc_id = g_holders.desc_id(holder_of(self, r));
    // A claimed descriptor is its claimer's, whatever it looks like (a memfd
    // is a regular file to classify()).
    if (ckpt_fd_claimed(r.fd)) r.kind = FdKind::Elsewhere;
    else classify(r, g_holders);
    if (r.kind == FdKind::Lost) settle_unsaveable(r);
    if (r.kind == FdKind::File) r.policy = policies.policy_for(r.path);
    if (r.kind == FdKind::Stdio) stdio_bind(static_cast<int>(r.stdio_index), r.fd);
  }

  // 4. Contents and in-flight bytes, each saved once per computation.
  for (uint32_t i = 0; i < count; ++i) {
    FdRecord& r = rec[i];
    bool leader = r.desc_id == holder_of(self, r).key();
    if (needs_contents(r)) {
      r.has_contents = 1;
      if (leader && !save_file_contents(r.fd, r.status_flags, r.desc_id)) {
        fail_for(r, "cannot save the contents of ");
        break;
      }
    }
    bool pipe_like = r.kind == FdKind::Pipe || r.kind == FdKind::Fifo;
    if (pipe_like && (access_of(r.status_flags) & kRead) &&
        g_holders.lowest_key(r.dev, r.ino, kRead) == holder_of(self, r).key()) {
      DrainResult drained = drain_pipe(r.fd, r.ino);
      r.has_drained = drained == DrainResult::Saved ? 1 : 0;
      if (drained == DrainResult::Skipped) {
        fail_for(r, "cannot save the bytes in flight in ");
        break;
      }
    }
  }

  FdSectionHeader& h = *g_section.at<FdSectionHeader>(0);
  h.version = image::kFdSectionVersion;
  h.count = count;
  save_process_state(h);
  ckpt_save_section(image::kFdSection, g_section.data(), g_section.size());
  release_all();
}

}  // namespace ckpt::fd
