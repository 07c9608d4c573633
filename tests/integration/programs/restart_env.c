/* Reports, after each restart, what the restored process's environment and
 * ckpt's temporary directory are (restart_env.sh changes them at restart:
 * --modify-env, --env-file, --tmpdir). Prints "start" and then one line per
 * restart it notices (dmtcp_get_local_status): the variables named on the
 * command line (NAME=value, or NAME unset), and "tmpdir DIR" from
 * dmtcp_get_tmpdir. A child it runs with system() after a restart shows that
 * programs started afterwards inherit the new environment. Runs until the
 * file named by its first argument appears.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmtcp.h"

static void report(int argc, char **argv, const char *when) {
  printf("%s:", when);
  for (int i = 2; i < argc; ++i) {
    const char *v = getenv(argv[i]);
    if (v) printf(" %s=%s", argv[i], v);
    else printf(" %s unset", argv[i]);
  }
  printf(" tmpdir %s\n", dmtcp_get_tmpdir ? dmtcp_get_tmpdir() : "(none)");
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  report(argc, argv, "start");
  int seen = 0;
  while (access(argv[1], F_OK) != 0) {
    int c = 0, r = 0;
    if (dmtcp_get_local_status(&c, &r) == DMTCP_IS_PRESENT && r > seen) {
      seen = r;
      char when[32];
      snprintf(when, sizeof when, "restart %d", r);
      report(argc, argv, when);
      /* A program started now sees the same environment. */
      char cmd[256];
      snprintf(cmd, sizeof cmd, "echo \"child: ${%s-unset}\"", argv[2]);
      if (system(cmd) != 0) return 1;
      fflush(stdout);
    }
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}
