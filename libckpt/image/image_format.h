// The checkpoint image format: the one header that declares it.
//
// Layout of an image file:
//
//   [FileHeader, padded to kHeaderSize]
//   [region data ...]   one blob per region that has data, blobs not overlapping;
//                       a blob holds only the region's stored pages (its PageExtents,
//                       back to back, in address order), as a sequence of chunks,
//                       each kChunkSize raw bytes except the last:
//                         compressed:   ChunkHeader + lz4 block (or, where lz4 did not
//                                       shrink it, ChunkHeader with kChunkStored + the
//                                       raw bytes);
//                         uncompressed: ChunkHeader with kChunkStored + the raw bytes,
//                                       every chunk (no lz4 run)
//                       Each chunk is checked on its own (ChunkHeader.crc): a restart
//                       loads one when a page of it is first needed (lazy restart).
//                       The Region record holds a copy of every chunk header
//                       (RegionRecord.chunk_count), so that where each chunk lies is
//                       known from the metadata alone, without a read per chunk.
//   [metadata]          a sequence of records: RecordHeader + payload, each padded to 8
//                       bytes, ending with a RecordType::End record
//
// An incremental image (FileHeader.parent_generation != 0) has complete
// metadata, but stores only the pages written since its parent's checkpoint
// and names the rest as inherited (RegionRecord.inherit_count): a restart
// reads those from the parent (by FileHeader.parent_name and parent_id),
// which may inherit from its own parent, down to a full image.
//
// FileHeader.header_crc covers the header, FileHeader.meta_crc the metadata, and
// every region blob carries its own checksums (ChunkHeader.crc per chunk, of
// its stored bytes, and RegionRecord.crc of all the region's raw bytes). All
// checksums are CRC-32C.
// The header is written last, after the data and metadata, so a file with a
// valid header is complete; and the whole file is written under a temporary
// name and renamed into place after fsync.
//
// All integers are little-endian (the only architecture is x86-64).
#pragma once

#include <stdint.h>

namespace ckpt::image {

inline constexpr char kMagic[8] = {'C', 'K', 'P', 'T', 'I', 'M', 'G', '\0'};
// 2: ProcessRecord.gid.
// 3: regions store only some pages (PageExtent lists), file-backed regions.
// 4: incremental images (FileHeader lineage, RegionRecord.inherit_count).
// 5: uncompressed region data in chunks too (ChunkHeader + raw bytes, each
//    chunk checked on its own), no longer page-aligned raw bytes mapped from
//    the file; a copy of each region's chunk headers in its Region record
//    (RegionRecord.chunk_count). Images of other versions are refused with a
//    line that says so.
inline constexpr uint32_t kFormatVersion = 5;
inline constexpr uint32_t kArchX86_64 = 62;  // ELF e_machine EM_X86_64
inline constexpr uint32_t kHeaderSize = 4096;
inline constexpr uint32_t kChunkSize = 4u << 20;  // raw bytes per chunk
// Threads of one process that libckpt suspends, saves and restores (the
// checkpoint thread included); more fail the checkpoint with a reason.
inline constexpr int kMaxThreads = 1024;
// Memory regions of one process that libckpt saves (lines of /proc/PID/maps):
// four times the kernel's default vm.max_map_count (65530), for programs
// run with it raised. Lists of them are mmap'd without reservation and only
// the entries used are touched.
inline constexpr uint32_t kMaxRegions = 262144;
// Sections of one image (one per saved pipe, copied file, plugin ...).
inline constexpr int kMaxSections = 1024;
// Bytes of a region's path, its NUL included (the longest libckpt keeps).
inline constexpr uint32_t kMaxRegionPath = 512;
// Where x86-64 user space ends (47-bit addresses): every region lies below.
inline constexpr uint64_t kUserSpaceEnd = 1ull << 47;


enum FileFlags : uint32_t {
  kFileCompressed = 1u << 0,  // chunks were lz4-compressed where that helped; without it every chunk is kChunkStored
};

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t arch;
  uint32_t page_size;
  uint32_t flags;  // FileFlags
  uint64_t meta_offset;
  uint64_t meta_size;
  uint64_t file_size;  // the whole file: detects truncation
  uint32_t meta_crc;
  uint32_t header_crc;  // CRC-32C of this struct with header_crc = 0
  // Lineage: the header says it so that a chain is followed (restart) and
  // pruned (libckpt, the coordinator) from the first 4 KiB of each image.
  uint64_t image_id;           // random, never 0: what a child image names
  uint64_t generation;         // == ProcessRecord.generation
  uint64_t parent_generation;  // 0: a full image; else the image its inherited pages come from
  uint64_t parent_id;          // the parent's image_id: another file under its name is refused
  uint32_t mode;               // CheckpointMode: why this image is full, or that it is incremental
  uint32_t pad;
  char parent_name[256];       // the parent's file name, in this image's directory ("" when full)
};

// How a checkpoint chose between a full and an incremental image.
enum class CheckpointMode : uint32_t {
  FullFirst = 0,      // no tracked parent: the first since launch, exec, fork or restart
  Incremental = 1,    // only pages written since the parent generation
  FullDisabled = 2,   // incremental checkpoints disabled (--no-incremental)
  FullNoTracking = 3, // write tracking (userfaultfd write-protect + PAGEMAP_SCAN) unavailable
  FullPeriodic = 4,   // the chain reached CKPT_FULL_EVERY images
  FullLostTracking = 5,  // tracking was lost since the parent (moved directory, an uffd error)
};
inline const char* checkpoint_mode_name(uint32_t mode) {
  switch (static_cast<CheckpointMode>(mode)) {
    case CheckpointMode::FullFirst: return "full (first tracked checkpoint)";
    case CheckpointMode::Incremental: return "incremental";
    case CheckpointMode::FullDisabled: return "full (incremental disabled)";
    case CheckpointMode::FullNoTracking: return "full (write tracking unavailable)";
    case CheckpointMode::FullPeriodic: return "full (periodic, --full-every)";
    case CheckpointMode::FullLostTracking: return "full (tracking lost since the last checkpoint)";
  }
  return "unknown";
}
// Images in one chain at most (a child's generation is above its parent's,
// so a chain cannot loop; this bounds what a crafted one costs).
inline constexpr uint32_t kMaxChain = 1024;

enum class RecordType : uint32_t {
  End = 0,
  Process = 1,  // ProcessRecord, exactly one
  Thread = 2,   // ThreadRecord, one per thread
  Region = 3,   // RegionRecord + PageExtent[extent_count + inherit_count] + ChunkHeader[chunk_count]
                // + path bytes, one per memory region
  Section = 4,  // SectionRecord + bytes: a plugin's saved state
};

struct RecordHeader {
  uint32_t type;  // RecordType
  uint32_t size;  // payload bytes (not counting padding to 8)
};

struct ProcessRecord {
  int32_t virt_pid;   // the pid the application sees (its pid at launch)
  int32_t real_pid;   // the kernel's pid at checkpoint time
  int32_t virt_ppid;
  uint32_t uid;  // real ids of the process: a restart runs it with them again
  uint32_t gid;
  uint32_t computation_size;  // processes in the computation at checkpoint time
  uint32_t thread_count;       // == the number of Thread records, at most kMaxThreads
  uint32_t pad;
  uint64_t generation;
  uint64_t computation_id;     // the computation's (protocol.h WelcomePayload): one restart, one computation
  int64_t checkpoint_time_ns;  // CLOCK_REALTIME
  uint64_t restart_info_slot;  // address of libckpt's pointer the restorer fills on restart
  uint64_t start_brk;
  uint64_t brk;
  char unique_id[64];
  char progname[64];
  char hostname[64];
  char cwd[4096];
  char exe[4096];
};

// Callee-saved state of a thread parked inside libckpt (see libckpt/context.S).
// Everything else a thread had (all registers incl. FPU/AVX, signal mask,
// alternate stack) lives in the kernel's signal frame on its own stack and is
// restored by rt_sigreturn when the thread leaves the suspend handler.
struct ThreadContext {
  uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
  uint32_t mxcsr;
  uint16_t fpu_cw;
  uint16_t pad;
};

enum ThreadFlags : uint32_t {
  kThreadLeader = 1u << 0,      // tid == pid: restored in the restorer process itself
  kThreadCheckpointer = 1u << 1,  // libckpt's checkpoint thread
};

struct ThreadRecord {
  int32_t virt_tid;
  int32_t real_tid;
  uint32_t flags;  // ThreadFlags
  uint32_t rseq_len;
  uint64_t fs_base;
  uint64_t clear_child_tid;  // set_tid_address / CLONE_CHILD_CLEARTID (glibc: &pthread->tid)
  uint64_t robust_list;
  uint64_t robust_list_len;
  uint64_t rseq_addr;  // 0 if none registered
  uint32_t rseq_sig;
  uint32_t pad;
  uint64_t sigmask;  // kernel sigset in effect at the saved context
  ThreadContext ctx;
};

enum RegionFlags : uint32_t {
  kRegionPrivate = 1u << 0,
  kRegionShared = 1u << 1,
  kRegionAnonymous = 1u << 2,
  kRegionFile = 1u << 3,  // backed by `path` at file_offset
  kRegionHeap = 1u << 4,
  kRegionStack = 1u << 5,
  kRegionVdso = 1u << 6,  // [vdso], [vvar], [vvar_vclock]: never restored from bytes
  kRegionNoData = 1u << 7,  // no bytes saved (unreadable, or re-mapped from its file)
  kRegionLost = 1u << 8,    // shared memory of a kernel object ckpt cannot save ("anon_inode:[io_uring]"),
                            // accepted as lost (CKPT_ACCEPT_LOSS): restored as zero-filled private memory
  kRegionExternal = 1u << 9,  // a plugin saves and restores this memory (ckpt_save_region_bytes): a restart
                              // kind supplies it (RestartKind::region_source); with kRegionNoData, the bytes
                              // are elsewhere (another process's image holds them)
  kRegionFileBacked = 1u << 10,  // private file mapping: the pages not stored are the file's (path at
                                 // file_offset, whose identity RegionRecord.file_* records); without this
                                 // flag the pages a region does not store are zero
};

// A run of stored pages of one region: bytes [offset, offset + size) from the
// region's start. A region's extents are page-aligned, non-empty, in address
// order and neither overlap nor touch (touching runs are one extent).
struct PageExtent {
  uint64_t offset;
  uint64_t size;
};

struct RegionRecord {
  uint64_t start;
  uint64_t end;
  uint64_t file_offset;
  uint64_t data_offset;  // offset of this region's blob in the image (0 when nothing is stored)
  uint64_t data_size;    // bytes of the blob as stored (0 when nothing is stored)
  uint64_t stored_size;  // raw bytes of the stored pages: the sum of the extents' sizes
  // kRegionFileBacked: the file as it was at checkpoint time; a restart
  // refuses a file that differs.
  uint64_t file_dev;  // st_dev
  uint64_t file_ino;
  uint64_t file_size;
  int64_t file_mtime_ns;
  uint32_t prot;          // PROT_*
  uint32_t flags;         // RegionFlags
  uint32_t crc;           // CRC-32C of the stored pages' raw bytes (the chunks' raw bytes back
                          // to back; checked after decompression); 0 when nothing is stored
  uint32_t path_len;      // bytes of path following the extents, NUL included; 0 if no path
  uint32_t extent_count;  // PageExtents following this struct; 0 with kRegionNoData
  // Incremental images: PageExtents following the stored ones, the pages
  // whose bytes are the parent image's at the same addresses (unchanged
  // since). They neither overlap nor touch each other, and overlap no
  // stored extent. Pages neither stored nor inherited are zero (or the
  // file's, kRegionFileBacked). 0 in a full image.
  uint32_t inherit_count;
  // ChunkHeaders following the PageExtents: a copy of the headers of the
  // region's chunks in the blob, in order (the blob's own must match).
  // 0 when nothing is stored.
  uint32_t chunk_count;
  uint32_t pad;
};

struct ChunkHeader {
  uint32_t raw_size;
  uint32_t stored_size;  // == raw_size when kChunkStored is set
  uint32_t crc;          // CRC-32C of the stored bytes
  uint32_t flags;        // ChunkFlags
};

enum ChunkFlags : uint32_t {
  kChunkStored = 1u << 0,  // bytes stored raw: an uncompressed image, or lz4 did not help
};

struct SectionRecord {
  char name[32];
  uint32_t size;
  uint32_t pad;
};

// Section "warnings" (libckpt core): what this process held that ckpt could
// not save and the user accepted to lose (CKPT_ACCEPT_LOSS), as text, one
// line per thing, each ending in '\n'. Restart prints them.
inline constexpr char kWarningsSection[] = "warnings";

}  // namespace ckpt::image
