// The sysv kind's image schema: section "sysv", in the image of every process
// that uses the shared System V id table (sysv_table.h).
//
//   SysvSectionHeader
//   SysvAttach[attach_count]          this process's attached segments
//   SysvObjectRecord[object_count]    saver only: every object of the computation
//   SysvAdjRecord[adjustment_count]   saver only: every process's SEM_UNDO adjustments
//   data[data_bytes]                  saver only: the objects' contents, at their data_offset
//
// One process per table (the one with the lowest virtual pid, at DRAIN, when
// every process is frozen) is the saver. Contents: a segment's bytes; a
// semaphore set's values as uint16_t[nsems]; a queue's messages in order,
// each a SysvMessage header followed by its text, padded to 8 bytes.
//
// Written by sysv_plugin.cpp, read by sysv_restart.cpp and sysv_schema.cpp
// through sysv_image.h.
#pragma once

#include <stdint.h>


namespace ckpt::sysv {

enum class IpcKind : uint32_t { Shm = 1, Sem = 2, Msg = 3 };

inline const char* kind_name(IpcKind k) {
  switch (k) {
    case IpcKind::Shm: return "shm";
    case IpcKind::Sem: return "sem";
    case IpcKind::Msg: return "msg";
  }
  return "?";
}

inline constexpr uint32_t kMaxObjects = 1024;      // in one id table
inline constexpr uint32_t kMaxAdjustments = 4096;  // SEM_UNDO adjustments in one id table

inline constexpr char kSysvSection[] = "sysv";
inline constexpr uint32_t kSysvSectionVersion = 1;

// SysvObjectRecord flags.
inline constexpr uint32_t kRecordKeyElsewhere = 1u << 0;  // the key lives only in the table (kKeyElsewhere)
inline constexpr uint32_t kRecordRemoved = 1u << 1;       // a segment marked IPC_RMID, still attached (SHM_DEST)

struct SysvSectionHeader {
  uint32_t version;
  uint32_t saver;  // 1: this image holds the objects, adjustments and contents
  uint32_t attach_count;
  uint32_t object_count;
  uint32_t adjustment_count;
  uint32_t reserved;
  uint64_t data_bytes;
  char table_path[256];  // the id table this process mapped
};

// One mapping of a segment in this process, as /proc/self/maps shows it.
struct SysvAttach {
  uint64_t start;
  uint64_t end;
  uint64_t offset;  // into the segment
  uint32_t prot;    // PROT_READ | PROT_WRITE | PROT_EXEC
  int32_t virt_shmid;
};

struct SysvObjectRecord {
  IpcKind kind;
  int32_t virt;
  int32_t real;  // the kernel's id at checkpoint
  int32_t key;   // the key the application knows
  uint32_t flags;
  uint32_t uid, gid, cuid, cgid;
  uint32_t mode;       // the 9 permission bits (and SHM_DEST, SHM_LOCKED as the kernel shows them)
  uint64_t size;       // shm: bytes; sem: semaphores; msg: bytes queued
  uint64_t qbytes;     // msg: msg_qbytes
  uint32_t count;      // msg: messages queued; shm: attachments at checkpoint (shm_nattch)
  int32_t creator_vpid;  // shm: shm_cpid; msg: msg_lspid (virtual); sem: 0
  uint64_t data_offset;  // into the data area
  uint64_t data_len;
};

struct SysvAdjRecord {
  int32_t vpid;
  int32_t virt_semid;
  uint32_t semnum;
  int32_t adj;
};

struct SysvMessage {
  int64_t type;
  uint64_t len;
};

static_assert(sizeof(SysvSectionHeader) == 288);
static_assert(sizeof(SysvAttach) == 32);
static_assert(sizeof(SysvObjectRecord) == 80);

}  // namespace ckpt::sysv
