/* The restorer: replaces the address space of the process it runs in with
 * the one described by a ckpt_restore_args block, then resumes the saved
 * threads (GUIDE §3.3-3.4).
 *
 * It runs from a copy of itself placed in a hole that no saved region uses,
 * on a stack in that hole, after everything else of ckpt_restart is gone.
 * Hence: no libc, no globals, no absolute addresses (the build checks the
 * object has no undefined symbols and no absolute relocations), raw system
 * calls only. It is linked into a flat blob whose first byte is
 * ckpt_restorer_main. */
#include <stddef.h>
#include <stdint.h>

#include "ckpt/raw_syscall.h"
#include "restore_args.h"

#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_brk 12
#define SYS_rt_sigprocmask 14
#define SYS_ioctl 16
#define SYS_mremap 25
#define SYS_getpid 39
#define SYS_exit_group 231
#define SYS_arch_prctl 158
#define SYS_gettid 186
#define SYS_set_tid_address 218
#define SYS_set_robust_list 273
#define SYS_rseq 334
#define SYS_prctl 157
#define SYS_clone3 435

#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x0100
#define MAP_NORESERVE 0x4000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define ARCH_SET_FS 0x1002
#define SIG_SETMASK 2
#define PR_SET_MM 35
#define PR_SET_MM_MAP 14

#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_THREAD 0x00010000
#define CLONE_SYSVSEM 0x00040000
#define CLONE_SETTLS 0x00080000
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000

#define UFFDIO_REGISTER 0xC020AA00UL
#define UFFDIO_REGISTER_MODE_MISSING 1

#define PAGE_SIZE 4096UL
#define TASK_SIZE 0x7ffffffff000UL

#define EXIT_RESTORE_FAILED 70

struct clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

#define sys6 ckpt_raw_syscall6
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The compiler may emit calls to these for struct copies. Whole words
 * where both sides allow: stacks and stored pages are copied with it. */
void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
    for (; n >= 8; n -= 8, d += 8, s += 8) *(uint64_t *)d = *(const uint64_t *)s;
  }
  while (n--) *d++ = *s++;
  return dst;
}
void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

static size_t str_len(const char *s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

static void put_hex(char *buf, size_t *len, uint64_t v) {
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  buf[(*len)++] = '0';
  buf[(*len)++] = 'x';
  while (n) buf[(*len)++] = tmp[--n];
}

/* Nothing can be unwound any more: report on stderr and exit with a code
 * ckpt_restart recognises. */
__attribute__((noreturn)) static void die(const char *what, uint64_t addr, long err) {
  char buf[256];
  size_t len = 0;
  const char *prefix = "ckpt_restart: restore failed: ";
  for (const char *p = prefix; *p; ++p) buf[len++] = *p;
  for (size_t i = 0, n = str_len(what); i < n && len < 180; ++i) buf[len++] = what[i];
  buf[len++] = ' ';
  put_hex(buf, &len, addr);
  buf[len++] = ' ';
  buf[len++] = '(';
  buf[len++] = 'e';
  buf[len++] = '=';
  buf[len++] = '-';
  put_hex(buf, &len, (uint64_t)-err);
  buf[len++] = ')';
  buf[len++] = '\n';
  sys3(SYS_write, 2, buf, len);
  for (;;) sys1(SYS_exit_group, EXIT_RESTORE_FAILED);
}

static int failed(long rc) { return rc < 0 && rc > -4096; }

/* ---- the address space ---- */


/* Unmaps all of user space except the kept ranges (sorted, disjoint): the
 * gaps between them. */
static void unmap_everything_else(const struct ckpt_restore_args *a) {
  uint64_t addr = PAGE_SIZE;
  for (uint32_t i = 0; i <= a->kept_count && addr < TASK_SIZE; ++i) {
    uint64_t next = i < a->kept_count ? a->kept[i].start : TASK_SIZE;
    if (next > TASK_SIZE) next = TASK_SIZE;
    if (next > addr) sys2(SYS_munmap, addr, next - addr);
    if (i < a->kept_count && a->kept[i].end > addr) addr = a->kept[i].end;
  }
}

/* [vdso]/[vvar] belong to this kernel. Move them to where the image had
 * them (the restored C library holds pointers into them), through a parking
 * spot in the hole so no move lands on a special mapping not moved yet. */
static void move_specials(const struct ckpt_restore_args *a, uint64_t parking) {
  for (uint32_t i = 0; i < a->special_count; ++i) {
    const struct ckpt_special_move *s = &a->specials[i];
    uint64_t len = s->cur_end - s->cur_start;
    long rc = sys5(SYS_mremap, s->cur_start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, parking);
    if (failed(rc)) die("cannot move a vdso mapping from", s->cur_start, rc);
    parking += len;
  }
  uint64_t spot = parking;
  for (uint32_t i = a->special_count; i-- > 0;) {
    const struct ckpt_special_move *s = &a->specials[i];
    uint64_t len = s->cur_end - s->cur_start;
    spot -= len;
    long rc = sys5(SYS_mremap, spot, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, s->saved_start);
    if (failed(rc)) die("cannot move a vdso mapping to", s->saved_start, rc);
  }
}

/* The stored pages over a region just mapped from its source (its file, or
 * fresh zero pages). */
static long lay_overlay(const struct ckpt_restore_region *r) {
  for (uint64_t i = 0; i < r->extent_count; ++i) {
    const struct ckpt_restore_extent *e = &r->extents[i];
    memcpy((void *)(r->start + e->offset), (const void *)(r->src_addr + e->offset), e->size);
  }
  sys2(SYS_munmap, r->src_addr, r->end - r->start);
  return sys3(SYS_mprotect, r->start, r->end - r->start, r->prot);
}

static void map_regions(const struct ckpt_restore_args *a) {
  for (uint32_t i = 0; i < a->region_count; ++i) {
    const struct ckpt_restore_region *r = &a->regions[i];
    uint64_t len = r->end - r->start;
    /* Copied pages need a writable region first; mprotect after. */
    uint32_t prot = r->overlay == CKPT_OVERLAY_COPY ? r->prot | PROT_READ | PROT_WRITE : r->prot;
    long rc = 0;
    switch (r->source) {
      case CKPT_SRC_STAGED:
        rc = sys5(SYS_mremap, r->src_addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, r->start);
        if (!failed(rc)) rc = sys3(SYS_mprotect, r->start, len, r->prot);
        break;
      case CKPT_SRC_FILE:
        rc = sys6(SYS_mmap, r->start, len, prot, r->map_flags | MAP_FIXED, r->fd, r->file_offset);
        break;
      case CKPT_SRC_ANON:
        /* Only the pages written take memory: a sparse region (a huge
         * MAP_NORESERVE reservation) must not be refused for its size. */
        rc = sys6(SYS_mmap, r->start, len, prot, r->map_flags | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
        break;
      case CKPT_SRC_STACK:
        /* A grows-down mapping, so the stack can still grow below what was
         * in use at checkpoint time. */
        rc = sys6(SYS_mmap, r->start, len, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
        if (!failed(rc)) {
          memcpy((void *)r->start, (const void *)r->src_addr, len);
          sys2(SYS_munmap, r->src_addr, len);
          rc = sys3(SYS_mprotect, r->start, len, r->prot);
        }
        break;
      default:
        rc = -22;
    }
    if (failed(rc)) die("cannot map region", r->start, rc);
    if (r->overlay != CKPT_OVERLAY_NONE) {
      rc = lay_overlay(r);
      if (failed(rc)) die("cannot lay the stored pages over region", r->start, rc);
    }
  }
}

/* Lazy restart: the regions whose pages the page server brings in are
 * registered with the userfaultfd it serves; then it is told to start. A
 * page touched before it is in waits for it, the restorer's own writes
 * below included. */
static void register_lazy(const struct ckpt_restore_args *a) {
  if (a->uffd < 0) return;
  for (uint32_t i = 0; i < a->region_count; ++i) {
    const struct ckpt_restore_region *r = &a->regions[i];
    if (!r->lazy) continue;
    struct {
      uint64_t start, len, mode, ioctls;
    } reg = {r->start, r->end - r->start, UFFDIO_REGISTER_MODE_MISSING, 0};
    long rc = sys3(SYS_ioctl, a->uffd, UFFDIO_REGISTER, &reg);
    if (failed(rc)) die("cannot register lazily loaded region", r->start, rc);
  }
  /* Signals are blocked: a server gone makes this fail with EPIPE. */
  char go = 'g';
  long rc = sys3(SYS_write, a->info.lazy_fd, &go, 1);
  if (rc != 1) die("the lazy page server is gone; its socket is", (uint64_t)a->info.lazy_fd, rc);
}

/* The kernel's break must be the saved one: glibc's __curbrk comes back with
 * the heap, and a kernel break above it makes a failed brk() look like a
 * success to glibc (it then uses memory that is not there).
 *
 * prctl(PR_SET_MM_MAP) sets start_brk and brk outright; it needs no
 * privilege and does not check them against the mappings. Without it (a
 * kernel without CONFIG_CHECKPOINT_RESTORE), the kernel's start_brk stays
 * where ckpt_restart's was, which ckpt_restart made sure is at or below the
 * saved heap, and the break climbs from there to the saved value. This runs
 * while the address space is empty, so nothing is in the way; the saved heap
 * is then mapped over the fresh break area. */
static void restore_brk(const struct ckpt_restore_args *a) {
  if (a->set_layout) {
    /* struct prctl_mm_map: the layout, then no auxv and the same exe file. */
    struct {
      struct ckpt_mm_layout layout;
      uint64_t auxv;
      uint32_t auxv_size, exe_fd;
    } map;
    map.layout = a->layout;
    map.auxv = 0;
    map.auxv_size = 0;
    map.exe_fd = (uint32_t)a->exe_fd;
    long rc = sys5(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0);
    if (failed(rc) && a->exe_fd >= 0) {
      /* Not permitted to change the executable: the layout alone. */
      map.exe_fd = (uint32_t)-1;
      rc = sys5(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0);
    }
    if (failed(rc)) die("cannot set the program break to", a->layout.brk, rc);
    return;
  }
  sys1(SYS_brk, a->start_brk);
  if (!a->saved_brk) return;
  /* The way up may be hundreds of GiB: more than the kernel will commit at
   * once. Climb in steps, unmapping each step's fresh memory behind us. */
  const uint64_t step = 1UL << 30;
  uint64_t cur = a->start_brk;
  while (cur < a->saved_brk) {
    uint64_t next = a->saved_brk - cur > step ? cur + step : a->saved_brk;
    long rc = sys1(SYS_brk, next);
    if ((uint64_t)rc != next) die("cannot move the program break to", next, rc);
    uint64_t lo = (cur + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), hi = (next + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (hi > lo) sys2(SYS_munmap, lo, hi - lo);
    cur = next;
  }
}

/* ---- threads ---- */

/* Loads a saved context and continues there, with ckpt_save_context
 * returning 1. */
__attribute__((noreturn)) static void jump_to(const struct ckpt_restore_context *c) {
  __asm__ volatile(
      "ldmxcsr 64(%0)\n\t"
      "fldcw 68(%0)\n\t"
      "movq 0(%0), %%rbx\n\t"
      "movq 8(%0), %%rbp\n\t"
      "movq 16(%0), %%r12\n\t"
      "movq 24(%0), %%r13\n\t"
      "movq 32(%0), %%r14\n\t"
      "movq 40(%0), %%r15\n\t"
      "movq 48(%0), %%rsp\n\t"
      "movl $1, %%eax\n\t"
      "jmpq *56(%0)\n\t"
      :
      : "c"(c)
      : "memory");
  __builtin_unreachable();
}

/* Kernel state of a thread that the image cannot hold, then the jump. */
__attribute__((noreturn)) static void become_thread(struct ckpt_restore_thread *t) {
  sys2(SYS_arch_prctl, ARCH_SET_FS, t->fs_base);
  if (t->robust_list) sys2(SYS_set_robust_list, t->robust_list, t->robust_list_len);
  if (t->rseq_addr) {
    /* The area holds the old process's cpu numbers; the kernel rewrites them. */
    long rc = sys4(SYS_rseq, t->rseq_addr, t->rseq_len, 0, t->rseq_sig);
    if (failed(rc)) die("cannot register rseq area", t->rseq_addr, rc);
  }
  sys4(SYS_rt_sigprocmask, SIG_SETMASK, &t->sigmask, 0, 8);
  jump_to(&t->ctx);
}

/* First code of a cloned thread: on its small stack in the hole, with the
 * thread record in r12 (callee-saved, so clone3 leaves it). */
__attribute__((noreturn, used)) static void thread_entry(struct ckpt_restore_thread *t) {
  t->real_tid = (int32_t)sys1(SYS_gettid, 0);
  become_thread(t);
}

static long clone_thread(struct ckpt_restore_thread *t, int use_set_tid) {
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
             CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  /* glibc's pthread->tid must hold the kernel tid: the kernel writes it there
   * now and clears it at exit (pthread_join waits on it). */
  ca.parent_tid = t->clear_child_tid;
  ca.child_tid = t->clear_child_tid;
  ca.tls = t->fs_base;
  ca.stack = t->stack_top - 8192;
  ca.stack_size = 8192;
  int64_t tid = t->virt_tid;
  if (use_set_tid) {
    ca.set_tid = (uint64_t)&tid;
    ca.set_tid_size = 1;
  }
  long rc;
  __asm__ volatile(
      "movq %[t], %%r12\n\t"
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "movq %%r12, %%rdi\n\t"
      "andq $-16, %%rsp\n\t"
      "call thread_entry\n\t"
      "1:\n\t"
      : "=a"(rc)
      : "a"((long)SYS_clone3), "D"(&ca), "S"(sizeof ca), [t] "r"(t)
      : "rcx", "r11", "r12", "memory");
  return rc;
}

__attribute__((noreturn, section(".text.entry"))) void ckpt_restorer_main(struct ckpt_restore_args *a) {
  /* Park the specials at the top of the hole's spare room. */
  move_specials(a, a->hole_end - 64 * PAGE_SIZE);
  unmap_everything_else(a);
  /* Before the regions go in: the break area is created empty, and the
   * saved heap replaces its upper part. */
  restore_brk(a);
  map_regions(a);
  register_lazy(a);
  for (uint32_t i = 0; i < a->close_fd_count; ++i) sys1(SYS_close, a->close_fds[i]);

  a->info.real_pid = (int32_t)sys1(SYS_getpid, 0);
  *(struct ckpt_restart_handoff **)a->restart_info_slot = &a->info;

  struct ckpt_restore_thread *leader = 0;
  for (uint32_t i = 0; i < a->thread_count; ++i) {
    struct ckpt_restore_thread *t = &a->threads[i];
    if (t->is_leader) {
      leader = t;
      continue;
    }
    long rc = clone_thread(t, a->use_set_tid);
    if (failed(rc) && a->use_set_tid) rc = clone_thread(t, 0); /* tid taken: take a new one */
    if (failed(rc)) die("cannot create thread", (uint64_t)t->virt_tid, rc);
    t->real_tid = (int32_t)rc;
  }
  if (!leader) die("image has no main thread", 0, -22);
  leader->real_tid = a->info.real_pid;
  if (leader->clear_child_tid) {
    *(int32_t *)leader->clear_child_tid = leader->real_tid;
    sys1(SYS_set_tid_address, leader->clear_child_tid);
  }
  become_thread(leader);
}
