/* fd_pipe_stream MODE RECORDS DELAY_US: a writer pushes RECORDS numbered
 * 16-byte records into a pipe as fast as it can; a reader takes them out one
 * by one, DELAY_US apart, so the pipe stays full and any checkpoint finds
 * bytes in flight. The reader checks that every record arrives exactly once
 * and in order, prints "step N" every 100 records and a checksum at the end.
 *
 * MODE:
 *   thread  writer and reader are two threads of one process
 *   fork    the parent writes, the child reads (the parent closes its read
 *           end, so the child leads the pipe's read side)
 *   quota   as thread, but the pipe is 1 MiB and the user is then taken over
 *           its pipe quota (fs/pipe-user-pages-soft): pipes made from now on
 *           get two pages and cannot grow, so the checkpoint cannot copy
 *           this pipe with tee and has to read it out and put it back. Root
 *           is exempt from the quota, so as root the process first becomes
 *           uid/gid 64123 (the test makes the image directory writable).
 * The reader's fd for the pipe is 10, the writer's 11.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kRecord = 16 };
static long g_records;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("write");
    p += n;
    len -= (size_t)n;
  }
}

static void *writer(void *arg) {
  (void)arg;
  char rec[32];
  for (long i = 1; i <= g_records; ++i) {
    snprintf(rec, sizeof rec, "record %08ld\n", i);
    write_all(11, rec, kRecord);
  }
  close(11);
  return NULL;
}

static int reader(long delay_us) {
  char rec[kRecord + 1] = {0};
  unsigned long sum = 0;
  long expect = 1;
  for (;;) {
    size_t got = 0;
    while (got < kRecord) {
      ssize_t n = read(10, rec + got, kRecord - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("read");
      if (n == 0) break;
      got += (size_t)n;
    }
    if (got == 0) break;
    long number = 0;
    if (got != kRecord || sscanf(rec, "record %ld", &number) != 1 || number != expect) {
      printf("bad record after %ld: '%.*s'\n", expect - 1, (int)got, rec);
      return 1;
    }
    sum = sum * 31 + (unsigned long)number;
    if (number % 100 == 0) {
      printf("step %ld\n", number / 100);
      fflush(stdout);
    }
    ++expect;
    if (delay_us > 0) usleep((useconds_t)delay_us);
  }
  printf("records %ld checksum %lu\n", expect - 1, sum);
  return expect - 1 == g_records ? 0 : 1;
}

static void move_to(int fd, int want) {
  if (fd == want) return;
  if (dup2(fd, want) != want) die("dup2");
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fd_pipe_stream thread|fork|quota RECORDS DELAY_US\n");
    return 2;
  }
  const char *mode = argv[1];
  g_records = atol(argv[2]);
  long delay = atol(argv[3]);
  int quota = strcmp(mode, "quota") == 0;
  if (quota && geteuid() == 0) {
    if (setgid(64123) != 0 || setuid(64123) != 0) die("setuid");
    prctl(PR_SET_DUMPABLE, 1); /* the uid change made /proc/self/fd root's */
  }
  int p[2];
  if (pipe(p) != 0) die("pipe");
  move_to(p[0], 10);
  move_to(p[1], 11);
  if (quota) {
    if (fcntl(11, F_SETPIPE_SZ, 1 << 20) < 0) die("F_SETPIPE_SZ");
    /* Quota pages are counted when a pipe is sized, not when it is filled. */
    for (int i = 0; i < 1024; ++i) {
      int q[2];
      if (pipe(q) != 0) die("pipe");
      if (fcntl(q[1], F_SETPIPE_SZ, 1 << 20) < 0) break;
    }
    int probe[2];
    if (pipe(probe) != 0 || fcntl(probe[1], F_SETPIPE_SZ, 1 << 20) >= 0) {
      fprintf(stderr, "fd_pipe_stream: cannot exceed the pipe quota here\n");
      return 77;
    }
    close(probe[0]);
    close(probe[1]);
    mode = "thread";
  }
  if (strcmp(mode, "thread") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, writer, NULL) != 0) die("pthread_create");
    int rc = reader(delay);
    pthread_join(t, NULL);
    return rc;
  }
  if (strcmp(mode, "fork") == 0) {
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      close(11);
      return reader(delay);
    }
    close(10);
    writer(NULL);
    int status;
    if (waitpid(child, &status, 0) != child) die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  fprintf(stderr, "fd_pipe_stream: unknown mode %s\n", mode);
  return 2;
}
