#include "exec_target.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ckpt/raw_syscall.h"

namespace ckpt {
namespace {

constexpr int kMaxInterpreterDepth = 4;  // as the kernel's binfmt_script nesting

bool secure_execution(int fd) {
  struct stat st;
  if (sys(SYS_fstat, fd, &st) != 0) return false;
  if ((st.st_mode & S_ISUID) && st.st_uid != static_cast<uid_t>(sys(SYS_getuid))) return true;
  if ((st.st_mode & S_ISGID) && st.st_gid != static_cast<gid_t>(sys(SYS_getgid))) return true;
  char cap[64];
  return sys(SYS_fgetxattr, fd, "security.capability", cap, sizeof cap) > 0;
}

ExecTarget classify(int fd, int depth);

// "#!interpreter [arg]": the interpreter is what actually runs.
ExecTarget classify_script(const char* head, long len, int depth) {
  if (depth >= kMaxInterpreterDepth) return ExecTarget::Checkpointable;
  char path[256];
  long i = 2;
  while (i < len && (head[i] == ' ' || head[i] == '\t')) ++i;
  size_t n = 0;
  while (i < len && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && n + 1 < sizeof path) path[n++] = head[i++];
  path[n] = '\0';
  if (n == 0) return ExecTarget::Checkpointable;
  int ifd = static_cast<int>(sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (ifd < 0) return ExecTarget::Checkpointable;  // the exec itself will fail
  ExecTarget t = classify(ifd, depth + 1);
  sys(SYS_close, ifd);
  return t;
}

ExecTarget classify(int fd, int depth) {
  if (secure_execution(fd)) return ExecTarget::Secure;
  char head[256];
  long len = sys(SYS_pread64, fd, head, sizeof head, 0);
  if (len >= 2 && head[0] == '#' && head[1] == '!') return classify_script(head, len, depth);
  if (len < static_cast<long>(sizeof(Elf64_Ehdr)) || memcmp(head, ELFMAG, SELFMAG) != 0)
    return ExecTarget::Checkpointable;  // not ELF: the exec (or execvp's /bin/sh fallback) decides
  Elf64_Ehdr eh;
  memcpy(&eh, head, sizeof eh);
  if (head[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) return ExecTarget::Foreign;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (sys(SYS_pread64, fd, &ph, sizeof ph, eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize) !=
        static_cast<long>(sizeof ph))
      return ExecTarget::Checkpointable;
    if (ph.p_type == PT_INTERP) return ExecTarget::Checkpointable;
  }
  return ExecTarget::Static;
}

}  // namespace

ExecTarget classify_exec_target(int fd) { return classify(fd, 0); }

ExecTarget classify_exec_path(int dirfd, const char* path) {
  int fd = static_cast<int>(sys(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return ExecTarget::Checkpointable;  // the exec will fail and say why
  ExecTarget t = classify(fd, 0);
  sys(SYS_close, fd);
  return t;
}

const char* describe_exec_target(ExecTarget t) {
  switch (t) {
    case ExecTarget::Static: return "is statically linked";
    case ExecTarget::Foreign: return "is not an x86-64 program";
    case ExecTarget::Secure: return "is setuid or has file capabilities";
    case ExecTarget::Checkpointable: break;
  }
  return "is checkpointable";
}

}  // namespace ckpt
