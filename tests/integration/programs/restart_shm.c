/* restart_shm STEPS PAUSE_MS: a parent and its child share named POSIX
 * shared memory (shm_open) and a named semaphore (sem_open, itself a file in
 * /dev/shm). Each step the parent adds to a counter in the shared memory and
 * posts the semaphore; the child waits on it, mixes the counter into a value
 * of its own in the shared memory and answers through a pipe. The parent
 * prints what the child wrote: after a restart that lost the sharing, the
 * child would see stale counters or never wake. */
#include <fcntl.h>
#include <inttypes.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct Shared {
  uint64_t counter;
  uint64_t mixed;
};

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s STEPS PAUSE_MS\n", argv[0]);
    return 2;
  }
  int steps = atoi(argv[1]);
  long ms = atol(argv[2]);
  char shm_name[64], sem_name[64];
  snprintf(shm_name, sizeof shm_name, "/ckpt_restart_shm.%d", (int)getpid());
  snprintf(sem_name, sizeof sem_name, "/ckpt_restart_sem.%d", (int)getpid());
  int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ftruncate(fd, sizeof(struct Shared)) != 0) {
    perror("shm_open");
    return 1;
  }
  struct Shared *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  sem_t *go = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 0);
  if (shared == MAP_FAILED || go == SEM_FAILED) {
    perror("mmap/sem_open");
    return 1;
  }
  int answer[2];
  if (pipe(answer) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    close(answer[0]);
    for (int s = 1; s <= steps; ++s) {
      while (sem_wait(go) != 0) {
      }
      shared->mixed = shared->mixed * 6364136223846793005ULL + shared->counter;
      if (write(answer[1], "x", 1) != 1) _exit(3);
    }
    _exit(0);
  }
  close(answer[1]);
  for (int s = 1; s <= steps; ++s) {
    shared->counter += (uint64_t)s * s;
    sem_post(go);
    char c;
    if (read(answer[0], &c, 1) != 1) {
      printf("the child did not answer at step %d\n", s);
      return 1;
    }
    printf("step %d counter %" PRIu64 " mixed %016" PRIx64 "\n", s, shared->counter, shared->mixed);
    fflush(stdout);
    pause_ms(ms);
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("done: child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  shm_unlink(shm_name);
  sem_unlink(sem_name);
  return 0;
}
