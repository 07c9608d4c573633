// Reading the application's memory in wrappers without faulting (issue 12).
//
// A wrapper that must look at a path, a set or an argv the application
// passed must not die where the real call would answer EFAULT: the pointer
// may be NULL, outside user space, or into memory that is not mapped or is
// PROT_NONE. The kernel is the only one that knows, so each page is checked
// with a system call that reads user memory and has no effect: rt_sigprocmask
// copies the new set in before it looks at `how`, so with a `how` that does
// not exist it answers EFAULT for memory it cannot read and EINVAL for any
// other, and changes nothing. (process_vm_readv on our own pid does the same
// but pins pages: about as costly as the open() it would guard.)
//
// Most strings the wrappers see are literals of the program itself, whose
// image stays mapped for the life of the process: pages there need no check,
// so open("/dev/null") costs nothing more than before.
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>

#include <cstdint>

#include "ckpt/raw_syscall.h"

namespace ckpt {
namespace {

constexpr uintptr_t kPageSize = 4096;
constexpr uintptr_t kUserEnd = uintptr_t{1} << 47;

// The main program's readable PT_LOAD segments, found once before main.
struct ProgramImage {
  static constexpr int kMaxRanges = 8;
  uintptr_t begin[kMaxRanges];
  uintptr_t end[kMaxRanges];
  int count;
};
ProgramImage g_program;

int note_program(struct dl_phdr_info* info, size_t, void* out) {
  auto* image = static_cast<ProgramImage*>(out);
  for (int i = 0; i < info->dlpi_phnum && image->count < ProgramImage::kMaxRanges; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_R)) continue;
    image->begin[image->count] = info->dlpi_addr + ph.p_vaddr;
    image->end[image->count] = info->dlpi_addr + ph.p_vaddr + ph.p_memsz;
    ++image->count;
  }
  return 1;  // the first object listed is the program
}

__attribute__((constructor(101))) void find_program_image() {
  ProgramImage image{};
  dl_iterate_phdr(note_program, &image);
  g_program = image;
}

bool in_program(uintptr_t page) {
  for (int i = 0; i < g_program.count; ++i)
    if (page >= g_program.begin[i] && page + kPageSize <= ((g_program.end[i] + kPageSize - 1) & ~(kPageSize - 1)))
      return true;
  return false;
}

// Checks pages one by one, remembering the last few found readable: the
// strings of an argv or an environment mostly share a few pages, and a walk
// of one goes back and forth between the array's page and the strings'.
class PageCheck {
 public:
  bool readable(uintptr_t at) {
    const uintptr_t page = at & ~(kPageSize - 1);
    for (uintptr_t ok : ok_)
      if (page == ok) return true;
    if (in_program(page)) return true;
    if (ckpt_raw_syscall6(SYS_rt_sigprocmask, -1, static_cast<long>(page), 0, 8, 0, 0) == -EFAULT) return false;
    ok_[next_] = page;
    next_ = (next_ + 1) % kRemembered;
    return true;
  }

  bool range(uintptr_t a, unsigned long len) {
    for (uintptr_t page = a & ~(kPageSize - 1); page < a + len; page += kPageSize)
      if (!readable(page)) return false;
    return true;
  }

  // strnlen(s, max), or -1 if a byte before the end cannot be read.
  long string_length(uintptr_t a, unsigned long max) {
    unsigned long length = 0;
    while (length < max) {
      if (a >= kUserEnd || !readable(a)) return -1;
      unsigned long chunk = kPageSize - (a & (kPageSize - 1));
      if (chunk > max - length) chunk = max - length;
      const auto* at = reinterpret_cast<const char*>(a);
      if (const void* nul = memchr(at, '\0', chunk)) return static_cast<long>(length + (static_cast<const char*>(nul) - at));
      length += chunk;
      a += chunk;
    }
    return static_cast<long>(max);
  }

 private:
  static constexpr int kRemembered = 4;
  uintptr_t ok_[kRemembered] = {};  // the NULL page is never readable
  int next_ = 0;
};

bool plausible(uintptr_t a) { return a >= kPageSize && a < kUserEnd; }

}  // namespace
}  // namespace ckpt

extern "C" {

int ckpt_readable_user_memory(const void* p, unsigned long len) {
  using namespace ckpt;
  const auto a = reinterpret_cast<uintptr_t>(p);
  if (!plausible(a) || len > kUserEnd - a) return 0;
  return PageCheck().range(a, len);
}

long ckpt_user_string_length(const char* s, unsigned long max) {
  using namespace ckpt;
  const auto a = reinterpret_cast<uintptr_t>(s);
  return plausible(a) ? PageCheck().string_length(a, max) : -1;
}

int ckpt_readable_user_strings(char* const* v, unsigned long max_each) {
  using namespace ckpt;
  if (!v) return 1;
  PageCheck check;
  for (auto a = reinterpret_cast<uintptr_t>(v);; a += sizeof(char*)) {
    if (!plausible(a) || !check.range(a, sizeof(char*))) return 0;
    const auto s = *reinterpret_cast<char* const*>(a);
    if (!s) return 1;
    const auto sa = reinterpret_cast<uintptr_t>(s);
    if (!plausible(sa)) return 0;
    const long n = check.string_length(sa, max_each);
    if (n < 0 || static_cast<unsigned long>(n) == max_each) return 0;
  }
}

}  // extern "C"
