/* fd_kinds DIR: holds one descriptor of each kind the fd plugin knows, waits
 * until DIR/go exists (the test checkpoints it meanwhile), then checks that
 * the checkpoint left every descriptor as it was: offsets, flags, the bytes
 * still in its pipe, the umask and working directory.
 *
 * Descriptor numbers are fixed (dup2 to 10..) so the test can name them:
 *   10 DIR/data.txt at offset 5          11 dup of 10 (same description)
 *   12 DIR/data.txt opened again, offset 2, O_APPEND
 *   13 DIR (directory)                   14 /dev/null
 *   15 DIR/deleted.txt, unlinked, write-only, offset 3
 *   16 read end, 17 write end of a pipe holding "in flight 1234567890"
 *   18 DIR/policy_keep.dat (read-only; the test gives it the replace policy)
 *   19 write end of a pipe whose read end is closed
 *   20 a pty master (/dev/ptmx)          21 its terminal (/dev/pts/N)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int at(int fd, int want) {
  if (fd < 0) die("open");
  if (fd != want) {
    if (dup2(fd, want) != want) die("dup2");
    close(fd);
  }
  return want;
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die(path);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fd_kinds DIR\n");
    return 2;
  }
  char dir[4096];
  if (!realpath(argv[1], dir) || chdir(dir) != 0) die(argv[1]);
  umask(027);
  write_file("data.txt", "0123456789abcdef");
  write_file("policy_keep.dat", "kept by the replace policy\n");

  at(open("data.txt", O_RDWR), 10);
  lseek(10, 5, SEEK_SET);
  if (dup2(10, 11) != 11) die("dup2");
  at(open("data.txt", O_RDWR | O_APPEND), 12);
  lseek(12, 2, SEEK_SET);
  at(open(".", O_RDONLY | O_DIRECTORY), 13);
  at(open("/dev/null", O_WRONLY), 14);
  at(open("deleted.txt", O_RDWR | O_CREAT | O_TRUNC, 0600), 15);
  if (write(15, "contents of a deleted file\n", 27) != 27) die("write");
  lseek(15, 3, SEEK_SET);
  if (unlink("deleted.txt") != 0) die("unlink");
  int p[2];
  if (pipe(p) != 0) die("pipe");
  at(p[0], 16);
  at(p[1], 17);
  if (write(17, "in flight 1234567890", 20) != 20) die("write pipe");
  at(open("policy_keep.dat", O_RDONLY), 18);
  if (pipe(p) != 0) die("pipe");
  close(p[0]);
  at(p[1], 19);
  fcntl(19, F_SETFD, FD_CLOEXEC);
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) die("posix_openpt");
  at(open(ptsname(master), O_RDWR | O_NOCTTY), 21);
  at(master, 20);

  printf("step 1\n");
  fflush(stdout);
  while (access("go", F_OK) != 0) usleep(20000);

  printf("offsets %ld %ld %ld %ld\n", (long)lseek(10, 0, SEEK_CUR), (long)lseek(11, 0, SEEK_CUR),
         (long)lseek(12, 0, SEEK_CUR), (long)lseek(15, 0, SEEK_CUR));
  printf("flags append %d cloexec %d\n", !!(fcntl(12, F_GETFL) & O_APPEND), !!(fcntl(19, F_GETFD) & FD_CLOEXEC));
  char buf[64] = {0};
  fcntl(16, F_SETFL, O_NONBLOCK);
  ssize_t n = read(16, buf, sizeof buf - 1);
  printf("pipe %zd '%s'\n", n, n > 0 ? buf : "");
  mode_t m = umask(0);
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) die("getcwd");
  printf("umask %03o cwd unchanged %d\n", (unsigned)m, strcmp(cwd, dir) == 0);
  printf("step 2\n");
  return 0;
}
