/* The hand-off between ckpt_restart and the freestanding restorer, and
 * between the restorer and libckpt inside the restored process.
 *
 * ckpt_restart builds a RestoreArgs block inside the "hole" (an address range
 * no saved region uses), copies the restorer there and jumps to it. The
 * restorer rebuilds the address space and the threads, then leaves a
 * RestartInfo for libckpt's checkpoint thread (which releases the hole).
 * Plain C: the restorer is compiled without libc. */
#ifndef CKPT_RESTORE_ARGS_H
#define CKPT_RESTORE_ARGS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ckpt_restore_source {
  CKPT_SRC_STAGED = 1, /* bytes prepared at src_addr: mremap them into place */
  CKPT_SRC_FILE = 2,   /* mmap fd at file_offset */
  CKPT_SRC_ANON = 3,   /* fresh anonymous memory (no saved bytes) */
  CKPT_SRC_STACK = 4,  /* grows-down stack: map, copy from src_addr, unmap src */
};

/* Stored pages laid over a region once its source is mapped. */
enum ckpt_restore_overlay {
  CKPT_OVERLAY_NONE = 0,
  /* 1 was OVERLAY_MAP (extents mapped from an uncompressed image): images
   * are read in checked chunks now (format 5) */
  CKPT_OVERLAY_COPY = 2, /* copy each extent from src_addr + its offset, then unmap src */
};

struct ckpt_restore_extent {
  uint64_t offset, size; /* bytes from the region's start */
};

struct ckpt_restore_region {
  uint64_t start, end;
  uint64_t src_addr;    /* STAGED, STACK, OVERLAY_COPY: region-sized */
  uint64_t file_offset; /* FILE */
  int32_t fd;           /* FILE */
  uint32_t prot;
  uint32_t map_flags;   /* MAP_PRIVATE or MAP_SHARED */
  uint32_t source;      /* enum ckpt_restore_source */
  uint32_t overlay;     /* enum ckpt_restore_overlay */
  uint32_t lazy;        /* ANON: registered with args->uffd (missing pages), its bytes served by the page server */
  uint64_t extent_count;
  struct ckpt_restore_extent *extents;
};

/* A kernel special mapping ([vdso], [vvar], [vvar_vclock]) to move from
 * where this kernel put it to where the image had it. */
struct ckpt_special_move {
  uint64_t cur_start, cur_end;
  uint64_t saved_start;
};

struct ckpt_restore_context {
  uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
  uint32_t mxcsr;
  uint16_t fpu_cw;
  uint16_t pad;
};

struct ckpt_restore_thread {
  int32_t virt_tid;
  int32_t real_tid; /* out: the tid the kernel gave the restored thread */
  uint32_t is_leader;
  uint32_t rseq_len;
  uint64_t fs_base;
  uint64_t clear_child_tid;
  uint64_t robust_list, robust_list_len;
  uint64_t rseq_addr;
  uint32_t rseq_sig;
  uint32_t pad;
  uint64_t sigmask;
  struct ckpt_restore_context ctx;
  uint64_t stack_top; /* a small stack in the hole to start the thread on */
};

#define CKPT_MAX_COORD_HOST 256
#define CKPT_MAX_PATH 4096
#define CKPT_SECRET_BYTES 32

/* What the restored process's checkpoint thread learns about its restart. */
struct ckpt_restart_handoff {
  uint64_t hole_start, hole_end; /* to unmap once every thread has left it */
  int32_t real_pid;
  int32_t thread_count;
  uint32_t coord_port;
  uint32_t pids_restored; /* 1 if the kernel pids/tids equal the virtual ones */
  char coord_host[CKPT_MAX_COORD_HOST];
  uint8_t secret[CKPT_SECRET_BYTES]; /* the coordinator's secret (ckpt/auth.h) */
  char ckptdir[CKPT_MAX_PATH]; /* non-empty: ckpt_restart --ckptdir */
  char host_name[64];          /* the host the process runs on now (CKPT_HOST_NAME) */
  char secret_file[CKPT_MAX_PATH]; /* the file of the secret above, on this host */
  char tmpdir[CKPT_MAX_PATH];      /* non-empty: ckpt_restart --tmpdir */
  char env_file[CKPT_MAX_PATH];    /* non-empty: ckpt_restart --env-file (absolute) */
  uint32_t modify_env;             /* ckpt_restart --modify-env: the image directory's dmtcp_env.txt */
  uint32_t path_map_set;           /* 1: ckpt_restart --path-map: CKPT_PATH_MAP becomes path_map */
  char path_map[CKPT_MAX_PATH];    /* the new map's text (plugins/path), "" for none */
  uint32_t lazy_pages;             /* 1: some memory is read from the image on first touch (mapped, or lazy_fd) */
  /* >= 0: the socket to this process's lazy page server (lazy restart of a
   * compressed image): a message says when every page is in (lazy_done). */
  int32_t lazy_fd;
  int64_t restart_started_ns;      /* CLOCK_MONOTONIC when ckpt_restart started: the restart's figures */
  struct ckpt_restore_thread *threads;
};

/* The kernel's record of a process's layout, as prctl(PR_SET_MM_MAP) takes
 * it (struct prctl_mm_map without its auxv and exe_fd tail). */
struct ckpt_mm_layout {
  uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack, arg_start, arg_end, env_start,
      env_end;
};

/* An address range the restorer's sweep of the old address space keeps. */
struct ckpt_kept_range {
  uint64_t start, end;
};

struct ckpt_restore_args {
  uint64_t hole_start, hole_end;
  uint64_t restart_info_slot; /* address in the restored image where &info goes */
  uint64_t start_brk;         /* this process's program break start (kernel's start_brk) */
  uint64_t saved_brk;         /* the program break the image had; 0: leave brk alone */
  /* Nonzero: set the kernel's layout to `layout` with prctl(PR_SET_MM_MAP)
   * (no privilege needed), which puts start_brk and brk where the image had
   * them; start_brk/saved_brk above are then unused. */
  uint32_t set_layout;
  /* With set_layout: the program's executable, opened by ckpt_restart, to
   * become /proc/self/exe (needs CAP_CHECKPOINT_RESTORE; without it the
   * layout is set alone); -1: none. */
  int32_t exe_fd;
  struct ckpt_mm_layout layout;
  uint32_t region_count;
  uint32_t thread_count;
  uint32_t special_count;
  uint32_t close_fd_count;
  uint32_t use_set_tid;      /* try clone3 set_tid to get the original tids back */
  /* What the sweep keeps: the hole, every region's bytes staged outside it
   * and the specials at their saved addresses; sorted by start, disjoint and
   * not touching (ckpt_restart merges them), so the sweep is one pass even
   * with a hundred thousand regions. */
  uint32_t kept_count;
  struct ckpt_kept_range *kept;
  struct ckpt_restore_region *regions;
  struct ckpt_restore_thread *threads;
  struct ckpt_special_move *specials;
  /* ckpt_restart's descriptors the regions are mapped from (the image, shared
   * files): closed once mapped. Every other descriptor belongs to the
   * restored process and stays as ckpt_restart put it. */
  int32_t *close_fds;
  /* Lazy restart: the userfaultfd the regions marked lazy are registered
   * with (then closed with close_fds: the page server holds it), and the
   * byte written to info.lazy_fd once they are; -1: none. */
  int32_t uffd;
  uint32_t pad2;
  struct ckpt_restart_handoff info;
};

/* What the lazy page server writes to ckpt_restart_handoff.lazy_fd when it
 * is done, then closes it: `complete` 1 once every stored page is in and its
 * userfaultfd is closed (the regions are plain memory again). */
struct ckpt_lazy_done {
  uint32_t complete;
  uint32_t pad;
  uint64_t bytes;     /* the stored bytes it loaded */
  int64_t loaded_ns;  /* CLOCK_MONOTONIC when the last one was in */
};

/* Entry point of the restorer blob (at offset 0 of the blob). Never returns. */
typedef void (*ckpt_restorer_entry)(struct ckpt_restore_args *args);

#ifdef __cplusplus
}
#endif

#endif
