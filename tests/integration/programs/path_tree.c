/* path_tree TREE STEPS PAUSE_MS: works in the directory tree TREE (holding
 * input.txt) through relative and absolute paths: enters TREE/work (an
 * absolute chdir, then a relative one), holds input.txt (absolute) open for
 * reading and log.txt (relative) open for writing, and at each step copies
 * one fixed-size record from one to the other, makes a file by a relative
 * name, renames it to an absolute one, checks it with stat, access and fopen,
 * and prints what getcwd, realpath and readlink of /proc/self/cwd and
 * /proc/self/fd/N answer. Paths under TREE are printed as "<tree>...", any
 * other path in full: under ckpt_launch/ckpt_restart --path-map with TREE a
 * VIRTUAL path, the output is the same as a run in a real TREE. Ends with a
 * checksum of log.txt, read back by its absolute path, and runs TREE/hello.sh
 * by its absolute path (it prints where it runs). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kRecord = 16 };

static const char *tree;

static void die(const char *what) {
  fprintf(stderr, "path_tree: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* `path` with TREE shown as "<tree>". */
static const char *shown(const char *path, char *buf, size_t cap) {
  size_t n = strlen(tree);
  if (path && strncmp(path, tree, n) == 0 && (path[n] == '/' || path[n] == '\0'))
    snprintf(buf, cap, "<tree>%s", path + n);
  else
    snprintf(buf, cap, "%s", path ? path : "(null)");
  return buf;
}

static const char *link_of(const char *link, char *buf, size_t cap) {
  char target[PATH_MAX];
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return strerror(errno);
  target[n] = '\0';
  return shown(target, buf, cap);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s TREE STEPS PAUSE_MS\n", argv[0]);
    return 2;
  }
  tree = argv[1];
  int steps = atoi(argv[2]);
  long pause_ms = atol(argv[3]);
  char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], d[PATH_MAX], e[PATH_MAX];

  snprintf(path, sizeof path, "%s/work", tree);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir work");
  if (chdir(tree) != 0) die("chdir TREE");
  if (chdir("work") != 0) die("chdir work");
  snprintf(path, sizeof path, "%s/input.txt", tree);
  int in = open(path, O_RDONLY);
  if (in < 0) die("open input.txt");
  int log = open("log.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (log < 0) die("open log.txt");
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) die("getcwd");
  printf("start cwd %s\n", shown(cwd, a, sizeof a));
  /* Pointers the kernel refuses: the wrappers (which read the path to map
   * it, or write the virtual cwd) must answer EFAULT as the kernel does. */
  char *bad = (char *)0xffffffffff000000UL;
  struct stat bad_st;
  printf("bad pointers: stat %s, mkdir %s, rename %s, open %s, getcwd %s\n",
         stat(bad, &bad_st) < 0 ? strerror(errno) : "ok", mkdir(bad, 0755) < 0 ? strerror(errno) : "ok",
         rename(bad, bad) < 0 ? strerror(errno) : "ok", open(bad, O_RDONLY) < 0 ? strerror(errno) : "ok",
         getcwd(bad, 100) ? "ok" : strerror(errno));
  fflush(stdout);

  char in_link[64], log_link[64];
  snprintf(in_link, sizeof in_link, "/proc/self/fd/%d", in);
  snprintf(log_link, sizeof log_link, "/proc/self/fd/%d", log);
  for (int step = 1; step <= steps; ++step) {
    char record[kRecord];
    if (read(in, record, sizeof record) != (ssize_t)sizeof record) die("read input.txt");
    if (write(log, record, sizeof record) != (ssize_t)sizeof record) die("write log.txt");

    char tmp[32], done[PATH_MAX];
    snprintf(tmp, sizeof tmp, "s%d.tmp", step);
    snprintf(done, sizeof done, "%s/work/s%d.done", tree, step);
    FILE *f = fopen(tmp, "w");
    if (!f) die("fopen tmp");
    fprintf(f, "step %d of %.*s", step, kRecord - 1, record);
    fclose(f);
    if (rename(tmp, done) != 0) die("rename");
    struct stat st;
    if (stat(done, &st) != 0) die("stat done");
    if (access(done, R_OK) != 0) die("access done");
    char back[64] = "";
    f = fopen(done, "r");
    if (!f || !fgets(back, sizeof back, f)) die("fopen done");
    fclose(f);
    if (step > 1) {
      snprintf(path, sizeof path, "%s/work/s%d.done", tree, step - 1);
      unlink(path);  /* a step repeated after a restart finds it gone */
    }

    char *real = realpath(".", NULL);
    if (!real) die("realpath");
    if (!getcwd(cwd, sizeof cwd)) die("getcwd");
    printf("step %d size %lld back '%s' cwd %s realpath %s proc-cwd %s log %s in %s\n", step, (long long)st.st_size,
           back, shown(cwd, a, sizeof a), shown(real, b, sizeof b), link_of("/proc/self/cwd", c, sizeof c),
           link_of(log_link, d, sizeof d), link_of(in_link, e, sizeof e));
    free(real);
    fflush(stdout);
    sleep_ms(pause_ms);
  }
  close(log);
  snprintf(path, sizeof path, "%s/work/log.txt", tree);
  FILE *f = fopen(path, "r");
  if (!f) die("fopen log.txt");
  unsigned long sum = 0;
  int ch;
  while ((ch = fgetc(f)) != EOF) sum = sum * 31 + (unsigned char)ch;
  fclose(f);
  printf("log sum %lu\n", sum);
  fflush(stdout);

  /* A program of the tree, run by its absolute path (exec goes through the
   * map too); it prints its working directory, inherited from this one. */
  snprintf(path, sizeof path, "%s/hello.sh", tree);
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    execl(path, path, tree, (char *)NULL);
    die("exec hello.sh");
  }
  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("hello.sh failed");
  return 0;
}
