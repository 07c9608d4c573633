/* info_tree DIR: a small computation whose images ckpt_info must decode
 * completely (info_decodes_images.sh). On a terminal (fds 0-2), the parent
 * holds
 *   fd 10  DIR/data.txt, read-write, at offset 6
 *   fd 11  DIR/keep.dat, read-only at offset 0 (the test gives it the
 *          replace policy, so its contents are saved)
 *   fd 12  the read end of a pipe holding "in flight 42\n", written by
 *   fd 13  the write end, in the forked child only
 *   fd 14  the terminal, opened as /dev/tty
 * a SIGUSR1 handler (SA_RESTART) and ITIMER_REAL armed for 1000 s. It prints
 * "step 1" once the child wrote into the pipe, waits for DIR/go, then reads
 * the pipe's bytes, reaps the child and prints what it saw.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void on_usr1(int sig) { (void)sig; }

static void put(const char *dir, const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) die(path);
}

static void open_at(const char *dir, const char *name, int flags, int fd) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int got = open(path, flags);
  if (got < 0 || dup2(got, fd) != fd) die(path);
  close(got);
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: info_tree DIR\n"), 2;
  const char *dir = argv[1];
  put(dir, "data.txt", "hello world\n");
  put(dir, "keep.dat", "kept bytes");
  open_at(dir, "data.txt", O_RDWR, 10);
  if (lseek(10, 6, SEEK_SET) != 6) die("lseek");
  open_at(dir, "keep.dat", O_RDONLY, 11);
  open_at("/dev", "tty", O_RDWR, 14);
  int p[2];
  if (pipe(p) != 0 || dup2(p[0], 12) != 12 || dup2(p[1], 13) != 13) die("pipe");
  close(p[0]);
  close(p[1]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) die("sigaction");
  struct itimerval timer = {{0, 0}, {1000, 0}};
  if (setitimer(ITIMER_REAL, &timer, NULL) != 0) die("setitimer");

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(12);
    static const char msg[] = "in flight 42\n";
    if (write(13, msg, sizeof msg - 1) != sizeof msg - 1) die("write");
    char go[4096];
    snprintf(go, sizeof go, "%s/go", dir);
    while (access(go, F_OK) != 0) usleep(20000);
    _exit(0);
  }
  close(13);
  char buf[64];
  /* The child's bytes are in the pipe once it is readable. */
  fd_set in;
  FD_ZERO(&in);
  FD_SET(12, &in);
  if (select(13, &in, NULL, NULL, NULL) != 1) die("select");
  printf("step 1\n");
  fflush(stdout);
  char go[4096];
  snprintf(go, sizeof go, "%s/go", dir);
  while (access(go, F_OK) != 0) usleep(20000);
  ssize_t n = read(12, buf, sizeof buf - 1);
  if (n < 0) die("read");
  buf[n] = '\0';
  int status;
  if (waitpid(child, &status, 0) != child) die("waitpid");
  printf("pipe: %s", buf);
  printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  printf("data.txt offset %ld\n", (long)lseek(10, 0, SEEK_CUR));
  printf("done\n");
  return 0;
}
