/* System V IPC under checkpoints and restarts (issue 10): a producer (the
 * parent) sends items over a message queue to two forked consumers (each
 * takes its own message type), which add them into a shared segment under a
 * semaphore used as a mutex with SEM_UNDO. Each consumer also raises a
 * "live" semaphore once with SEM_UNDO: the kernel takes that back when it
 * exits, so the value ends at 0 only if its adjustment survived restarts.
 * The parent also attaches the segment a second time, read-only.
 * A second segment, marked IPC_RMID at once, is attached by the parent and a
 * third child that writes into it each step; it must go away when the last
 * of them detaches. The parent finally prints what it reads back through
 * IPC_STAT, GETVAL, GETALL and xxxget(key) on the ids it got at the start,
 * removes the objects with IPC_RMID and checks they are gone.
 *
 * usage: sysv_pipeline KEYFILE [STEPS=60] [PAUSE_MS=40]
 *        sysv_pipeline --keys KEYFILE      prints the three keys (for ipcrm)
 *        sysv_pipeline --hold KEYFILE      holds objects under the same keys until SIGTERM
 *        sysv_pipeline --check-held KEYFILE  the held objects are intact: prints "held intact"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree_common.h"

enum { kMutex, kConsumed, kLive, kSems };
enum { kConsumers = 2 };

struct item {
  long type; /* consumer c takes type c + 1 */
  int value; /* 0: stop */
};

struct totals {
  long sum;
  unsigned long hash;
  int count[kConsumers];
};

static key_t key_of(const char *path, int id) {
  key_t k = ftok(path, id);
  if (k == -1) die("ftok");
  return k;
}

static void sem_do(int sems, int which, int delta, int flags) {
  struct sembuf op = {(unsigned short)which, (short)delta, (short)flags};
  if (semop(sems, &op, 1) != 0) die("semop");
}

static void consumer(int c, int queue, int sems, struct totals *t, int pause_ms) {
  sem_do(sems, kLive, 1, SEM_UNDO);
  for (;;) {
    struct item it;
    if (msgrcv(queue, &it, sizeof it.value, c + 1, 0) < 0) die("msgrcv");
    if (it.value == 0) break;
    sem_do(sems, kMutex, -1, SEM_UNDO);
    t->sum += it.value;
    t->hash += (unsigned long)it.value * (unsigned long)it.value * (unsigned long)(c + 1);
    t->count[c]++;
    sem_do(sems, kMutex, 1, SEM_UNDO);
    sem_do(sems, kConsumed, 1, 0);
    sleep_ms(pause_ms * 3 / 2);
  }
  if (shmdt(t) != 0) die("shmdt");
  exit(0);
}

/* Writes step numbers into the removed segment until told to stop (the word after them). */
static void scribbler(volatile int *removed) {
  while (!removed[1]) {
    removed[0]++;
    sleep_ms(5);
  }
  if (shmdt((const void *)removed) != 0) die("shmdt");
  exit(0);
}

static int hold(const char *path) {
  int shm = shmget(key_of(path, 'M'), 4096, IPC_CREAT | IPC_EXCL | 0600);
  int sems = semget(key_of(path, 'S'), 1, IPC_CREAT | IPC_EXCL | 0600);
  int queue = msgget(key_of(path, 'Q'), IPC_CREAT | IPC_EXCL | 0600);
  if (shm < 0 || sems < 0 || queue < 0) die("hold: xxxget");
  char *p = shmat(shm, NULL, 0);
  if (p == (void *)-1) die("hold: shmat");
  strcpy(p, "held by another program");
  shmdt(p);
  if (semctl(sems, 0, SETVAL, 77) != 0) die("hold: SETVAL");
  struct item it = {9, 4242};
  if (msgsnd(queue, &it, sizeof it.value, 0) != 0) die("hold: msgsnd");
  printf("holding\n");
  fflush(stdout);
  pause();
  return 0;
}

static int check_held(const char *path) {
  int shm = shmget(key_of(path, 'M'), 0, 0);
  int sems = semget(key_of(path, 'S'), 0, 0);
  int queue = msgget(key_of(path, 'Q'), 0);
  if (shm < 0 || sems < 0 || queue < 0) die("check: xxxget");
  char *p = shmat(shm, NULL, SHM_RDONLY);
  if (p == (void *)-1) die("check: shmat");
  struct item it;
  int ok = strcmp(p, "held by another program") == 0 && semctl(sems, 0, GETVAL) == 77 &&
           msgrcv(queue, &it, sizeof it.value, 9, IPC_NOWAIT) == sizeof it.value && it.value == 4242;
  printf("%s\n", ok ? "held intact" : "held objects changed");
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--keys") == 0) {
    printf("0x%08x 0x%08x 0x%08x\n", (unsigned)key_of(argv[2], 'M'), (unsigned)key_of(argv[2], 'S'),
           (unsigned)key_of(argv[2], 'Q'));
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "--hold") == 0) return hold(argv[2]);
  if (argc == 3 && strcmp(argv[1], "--check-held") == 0) return check_held(argv[2]);
  if (argc < 2) {
    fprintf(stderr, "usage: %s KEYFILE [STEPS] [PAUSE_MS]\n", argv[0]);
    return 2;
  }
  const char *path = argv[1];
  int steps = argc > 2 ? atoi(argv[2]) : 60;
  int pause_ms = argc > 3 ? atoi(argv[3]) : 40;
  setvbuf(stdout, NULL, _IOLBF, 0);

  key_t shm_key = key_of(path, 'M'), sem_key = key_of(path, 'S'), msg_key = key_of(path, 'Q');
  int shm = shmget(shm_key, sizeof(struct totals), IPC_CREAT | IPC_EXCL | 0640);
  int sems = semget(sem_key, kSems, IPC_CREAT | IPC_EXCL | 0660);
  int queue = msgget(msg_key, IPC_CREAT | IPC_EXCL | 0620);
  if (shm < 0 || sems < 0 || queue < 0) die("xxxget");
  unsigned short initial[kSems] = {1, 0, 0};
  if (semctl(sems, 0, SETALL, initial) != 0) die("SETALL");
  struct totals *t = shmat(shm, NULL, 0);
  if (t == (void *)-1) die("shmat");
  const struct totals *view = shmat(shm, NULL, SHM_RDONLY); /* a second, read-only attachment */
  if (view == (void *)-1) die("shmat read-only");

  int removed_id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  if (removed_id < 0) die("shmget private");
  volatile int *removed = shmat(removed_id, NULL, 0);
  if (removed == (void *)-1) die("shmat private");
  if (shmctl(removed_id, IPC_RMID, NULL) != 0) die("IPC_RMID while attached");

  pid_t kids[kConsumers + 1];
  for (int c = 0; c < kConsumers; ++c)
    if ((kids[c] = fork()) == 0) consumer(c, queue, sems, t, pause_ms);
  if ((kids[kConsumers] = fork()) == 0) scribbler(removed);

  for (int i = 1; i <= steps; ++i) {
    for (int c = 0; c < kConsumers; ++c) {
      struct item it = {c + 1, i * 10 + c};
      if (msgsnd(queue, &it, sizeof it.value, 0) != 0) die("msgsnd");
    }
    printf("step %d\n", i);
    sleep_ms(pause_ms);
  }
  for (int c = 0; c < kConsumers; ++c) {
    struct item stop = {c + 1, 0};
    if (msgsnd(queue, &stop, sizeof stop.value, 0) != 0) die("msgsnd stop");
  }
  for (int c = 0; c < kConsumers; ++c) {
    int status;
    if (waitpid(kids[c], &status, 0) != kids[c] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("consumer");
  }

  /* The segment marked for removal: still there while attached. */
  removed[1] = 1;
  int status;
  if (waitpid(kids[kConsumers], &status, 0) != kids[kConsumers] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("scribbler");
  struct shmid_ds rds;
  if (shmctl(removed_id, IPC_STAT, &rds) != 0) die("IPC_STAT removed segment");
  printf("removed segment: attached %lu, marked %d, written %d\n", (unsigned long)rds.shm_nattch,
         (rds.shm_perm.mode & SHM_DEST) != 0, removed[0] > steps);
  if (shmdt((const void *)removed) != 0) die("shmdt removed");
  errno = 0;
  printf("removed segment after the last detach: %s\n",
         shmctl(removed_id, IPC_STAT, &rds) != 0 && (errno == EINVAL || errno == EIDRM) ? "gone" : "still there");

  /* What the ids and keys held since the start show now. */
  struct shmid_ds sd;
  struct semid_ds semd;
  struct msqid_ds qd;
  if (shmctl(shm, IPC_STAT, &sd) != 0) die("shm IPC_STAT");
  if (semctl(sems, 0, IPC_STAT, &semd) != 0) die("sem IPC_STAT");
  if (msgctl(queue, IPC_STAT, &qd) != 0) die("msg IPC_STAT");
  printf("shm: size %zu mode %o key %d creator %d attached %lu\n", sd.shm_segsz, sd.shm_perm.mode & 0777,
         sd.shm_perm.__key == shm_key, sd.shm_cpid == getpid(), (unsigned long)sd.shm_nattch);
  printf("sem: nsems %lu mode %o key %d\n", (unsigned long)semd.sem_nsems, semd.sem_perm.mode & 0777,
         semd.sem_perm.__key == sem_key);
  printf("msg: queued %lu mode %o key %d\n", (unsigned long)qd.msg_qnum, qd.msg_perm.mode & 0777,
         qd.msg_perm.__key == msg_key);
  printf("keys find the same ids: %d %d %d\n", shmget(shm_key, 0, 0) == shm, semget(sem_key, 0, 0) == sems,
         msgget(msg_key, 0) == queue);
  printf("IPC_CREAT|IPC_EXCL on a held key: %s\n",
         msgget(msg_key, IPC_CREAT | IPC_EXCL | 0600) < 0 && errno == EEXIST ? "EEXIST" : "created");
  unsigned short values[kSems];
  if (semctl(sems, 0, GETALL, values) != 0) die("GETALL");
  printf("sems: mutex %d consumed %d live %d (GETVAL %d)\n", values[kMutex], values[kConsumed], values[kLive],
         semctl(sems, kConsumed, GETVAL));
  printf("totals: sum %ld hash %lu counts %d %d\n", t->sum, t->hash, t->count[0], t->count[1]);
  printf("read-only view agrees: %d\n", memcmp(view, t, sizeof *t) == 0);
  if (shmdt(view) != 0) die("shmdt read-only");

  if (shmdt(t) != 0) die("shmdt");
  if (shmctl(shm, IPC_RMID, NULL) != 0) die("shm IPC_RMID");
  if (semctl(sems, 0, IPC_RMID) != 0) die("sem IPC_RMID");
  if (msgctl(queue, IPC_RMID, NULL) != 0) die("msg IPC_RMID");
  errno = 0;
  int gone = shmctl(shm, IPC_STAT, &sd) != 0 && semctl(sems, 0, IPC_STAT, &semd) != 0 && msgctl(queue, IPC_STAT, &qd) != 0;
  printf("done: removed %d\n", gone);
  return 0;
}
