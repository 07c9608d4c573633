/* restart_pipes RECORDS PAUSE_MS: two writer children stream numbered
 * records to the root, one through a pipe, one through a named FIFO, in
 * bursts faster than the root reads them one per step: at any checkpoint
 * both hold bytes written but not yet read. The root prints every record it
 * reads, then reads to end of file, waits for both writers by pid and prints
 * the totals. Any byte lost, repeated or reordered across a restart shows. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kRecord = 12, kBurst = 3 };

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void write_records(int fd, char tag, int records, long ms) {
  for (int i = 1; i <= records; ++i) {
    char rec[kRecord + 1];
    snprintf(rec, sizeof rec, "%c rec %05d\n", tag, i % 100000);
    if (write(fd, rec, kRecord) != kRecord) _exit(80);
    if (i % kBurst == 0) pause_ms(ms);
  }
  close(fd);
  _exit(0);
}

/* One whole record, or 0 at end of file. */
static int read_record(int fd, char *rec) {
  size_t got = 0;
  while (got < kRecord) {
    ssize_t n = read(fd, rec + got, kRecord - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      perror("read");
      exit(1);
    }
    if (n == 0) return 0;
    got += (size_t)n;
  }
  rec[kRecord - 1] = '\0';
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s RECORDS PAUSE_MS\n", argv[0]);
    return 2;
  }
  int records = atoi(argv[1]);
  long ms = atol(argv[2]);
  const char *tmp = getenv("TMPDIR");
  char fifo_path[4096];
  snprintf(fifo_path, sizeof fifo_path, "%s/restart_pipes.%d.fifo", tmp && *tmp ? tmp : "/tmp", (int)getpid());
  unlink(fifo_path);
  if (mkfifo(fifo_path, 0600) != 0) {
    perror("mkfifo");
    return 1;
  }
  int p[2];
  if (pipe(p) != 0) {
    perror("pipe");
    return 1;
  }
  pid_t pipe_writer = fork();
  if (pipe_writer == 0) {
    close(p[0]);
    write_records(p[1], 'p', records, ms);
  }
  close(p[1]);
  pid_t fifo_writer = fork();
  if (fifo_writer == 0) {
    close(p[0]);
    int w = open(fifo_path, O_WRONLY);
    if (w < 0) _exit(81);
    write_records(w, 'f', records, ms);
  }
  int f = open(fifo_path, O_RDONLY);
  if (pipe_writer < 0 || fifo_writer < 0 || f < 0) {
    perror("fork/open");
    return 1;
  }
  char a[kRecord + 1], b[kRecord + 1];
  int from_pipe = 0, from_fifo = 0;
  for (int step = 1; step <= records; ++step) {
    from_pipe += read_record(p[0], a);
    from_fifo += read_record(f, b);
    printf("step %d: %s, %s\n", step, a, b);
    fflush(stdout);
    pause_ms(ms);
  }
  while (read_record(p[0], a)) ++from_pipe;
  while (read_record(f, b)) ++from_fifo;
  int s1 = 0, s2 = 0;
  int ok1 = waitpid(pipe_writer, &s1, 0) == pipe_writer, ok2 = waitpid(fifo_writer, &s2, 0) == fifo_writer;
  printf("records: %d through the pipe, %d through the fifo; writers %s, exit %d and %d\n", from_pipe, from_fifo,
         ok1 && ok2 ? "waited by pid" : "NOT WAITED", WEXITSTATUS(s1), WEXITSTATUS(s2));
  unlink(fifo_path);
  return 0;
}
