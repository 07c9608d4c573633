/* A parent and three forked workers that stream numbered records through
 * pipes to it.
 *
 * usage: tree_pipe_workers [RECORDS=200] [ROUND_MS=20]
 *
 * Each worker writes RECORDS fixed-size records (1 KiB: worker number,
 * sequence number, whether getppid() still names the parent, and a payload
 * derived from both numbers) as fast as its pipe takes them, so at any time
 * up to a pipe's capacity of records is in flight and the worker is blocked
 * in write(). The parent reads one record from each worker in turn every
 * ROUND_MS milliseconds, checks it, and prints a line every 5 rounds. At the
 * end it reads EOF from each pipe, waits for each worker by pid (waitpid must
 * return that pid) and checks its exit status (10 + worker number, or 1 if
 * the worker saw a wrong getppid()).
 *
 * Only the parent prints to stdout, and only deterministic values.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

#define WORKERS 3
#define RECORD_SIZE 1024

struct record {
  int32_t worker;
  int32_t seq;
  int32_t ppid_ok;
  uint32_t checksum;  // of payload
  unsigned char payload[RECORD_SIZE - 16];
};

static void fill_payload(struct record *r) {
  uint32_t x = (uint32_t)r->worker * 2654435761u + (uint32_t)r->seq * 40503u + 1;
  uint32_t sum = 0;
  for (size_t i = 0; i < sizeof r->payload; i++) {
    x = x * 1103515245u + 12345u;
    r->payload[i] = (unsigned char)(x >> 16);
    sum = sum * 31 + r->payload[i];
  }
  r->checksum = sum;
}

/* Returns bytes read: RECORD_SIZE, or 0 at EOF; dies on errors and short records. */
static size_t read_record(int fd, struct record *r) {
  ssize_t got = read_full(fd, r, RECORD_SIZE);
  if (got < 0) die("read");
  if (got != 0 && got != RECORD_SIZE) {
    fprintf(stderr, "tree_pipe_workers: short record (%zd bytes)\n", got);
    exit(1);
  }
  return (size_t)got;
}

static int worker(int index, int fd, pid_t parent, int records) {
  int all_ok = 1;
  struct record r;
  for (int seq = 1; seq <= records; seq++) {
    memset(&r, 0, sizeof r);
    r.worker = index;
    r.seq = seq;
    r.ppid_ok = getppid() == parent;
    if (!r.ppid_ok) all_ok = 0;
    fill_payload(&r);
    if (write_all(fd, &r, sizeof r) != 0) die("worker write");
  }
  close(fd);
  return all_ok ? 10 + index : 1;
}

int main(int argc, char **argv) {
  int records = argc > 1 ? atoi(argv[1]) : 200;
  int round_ms = argc > 2 ? atoi(argv[2]) : 20;
  pid_t parent = getpid();
  pid_t pids[WORKERS];
  int fds[WORKERS];

  for (int w = 0; w < WORKERS; w++) {
    int p[2];
    if (pipe(p) != 0) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      close(p[0]);
      for (int k = 0; k < w; k++) close(fds[k]);
      _exit(worker(w, p[1], parent, records));
    }
    close(p[1]);
    pids[w] = pid;
    fds[w] = p[0];
  }
  printf("started %d workers, %d records each\n", WORKERS, records);
  fflush(stdout);

  int bad = 0;
  uint32_t digest = 0;
  struct record r;
  for (int seq = 1; seq <= records; seq++) {
    for (int w = 0; w < WORKERS; w++) {
      if (read_record(fds[w], &r) == 0) {
        printf("worker %d: EOF before record %d\n", w, seq);
        return 1;
      }
      struct record check = r;
      fill_payload(&check);
      int payload_ok = r.checksum == check.checksum && memcmp(r.payload, check.payload, sizeof r.payload) == 0;
      if (r.worker != w || r.seq != seq || !payload_ok) {
        printf("worker %d record %d: got worker %d seq %d, payload %s\n", w, seq, r.worker, r.seq,
               payload_ok ? "ok" : "corrupt");
        bad++;
      }
      if (!r.ppid_ok) {
        printf("worker %d record %d: getppid() did not name the parent\n", w, seq);
        bad++;
      }
      digest = digest * 16777619u ^ r.checksum;
    }
    if (seq % 5 == 0) {
      printf("step %d records %d digest %08x\n", seq / 5, seq, digest);
      fflush(stdout);
    }
    sleep_ms(round_ms);
  }

  for (int w = 0; w < WORKERS; w++) {
    if (read_record(fds[w], &r) != 0) {
      printf("worker %d: more records than expected\n", w);
      bad++;
    }
    close(fds[w]);
  }
  for (int w = 0; w < WORKERS; w++) {
    int status = 0;
    pid_t got;
    while ((got = waitpid(pids[w], &status, 0)) < 0 && errno == EINTR) {
    }
    if (got < 0) die("waitpid");
    int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    printf("worker %d: waitpid returned its pid: %s, exit status %d (expected %d)\n", w,
           got == pids[w] ? "yes" : "no", exit_code, 10 + w);
    if (got != pids[w] || exit_code != 10 + w) bad++;
  }
  printf("done: digest %08x, %d problems\n", digest, bad);
  return bad ? 1 : 0;
}
