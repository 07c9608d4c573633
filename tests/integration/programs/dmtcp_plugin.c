/* A program with a DMTCP-style plugin (dmtcp_register_plugin, built against
 * plugins/dmtcp/dmtcp.h), in two processes (a parent and its child, which
 * inherits the plugin). The hook counts the events it gets, and at
 * PRESUSPEND, RESUME and RESTART calls dmtcp_global_barrier between two
 * steps: before the barrier each process leaves a marker file, after it
 * each checks that the other's marker is there. The child is slow (it waits
 * a second before its marker), so a barrier that does not wait is caught.
 *
 * Runs until the file PLUGIN_DIR/finish appears; then each process prints
 * its counts (the child first). A library declared with DMTCP_DECL_PLUGIN
 * (dmtcp_decl_plugin.c, preloaded) reports its own count through the weak
 * decl_plugin_presuspends(). Without ckpt it says so and exits.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dmtcp.h"

int decl_plugin_presuspends(void) __attribute__((weak));

/* What one process's hook saw. The hook runs on ckpt's checkpoint thread
 * while the application's threads may be frozen: no stdio, no malloc. */
struct counts {
  const char *role;
  const char *dir;
  int event[nDmtcpEvents];
  int barriers;
  int violations;
};
static struct counts g_counts;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void marker_path(char *out, size_t cap, const char *step, int n, const char *role) {
  snprintf(out, cap, "%s/%s.%d.%s", g_counts.dir, step, n, role);
}

/* Both processes leave a marker, wait at the barrier, and then must see
 * each other's. */
static void synchronised_step(const char *step, int n) {
  char mine[4096], theirs[4096];
  int child = strcmp(g_counts.role, "child") == 0;
  if (child) sleep_ms(1000);
  marker_path(mine, sizeof mine, step, n, g_counts.role);
  int fd = open(mine, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  dmtcp_global_barrier(step);
  g_counts.barriers++;
  marker_path(theirs, sizeof theirs, step, n, child ? "parent" : "child");
  if (access(theirs, F_OK) != 0) g_counts.violations++;
}

static void hook(DmtcpEvent_t event, DmtcpEventData_t *data) {
  (void)data;
  if (event < 0 || event >= nDmtcpEvents) return;
  int n = ++g_counts.event[event];
  switch (event) {
    case DMTCP_EVENT_PRESUSPEND: synchronised_step("presuspend", n); break;
    case DMTCP_EVENT_RESUME: synchronised_step("resume", n); break;
    case DMTCP_EVENT_RESTART: synchronised_step("restart", n); break;
    default: break;
  }
}

static DmtcpPluginDescriptor_t g_plugin = {
    DMTCP_PLUGIN_API_VERSION, DMTCP_PACKAGE_VERSION, "counter", "ckpt tests", "", "counts events", hook};

static void print_counts(void) {
  const struct counts *c = &g_counts;
  printf("%s: init=%d presuspend=%d precheckpoint=%d resume=%d restart=%d running=%d barriers=%d violations=%d",
         c->role, c->event[DMTCP_EVENT_INIT], c->event[DMTCP_EVENT_PRESUSPEND], c->event[DMTCP_EVENT_PRECHECKPOINT],
         c->event[DMTCP_EVENT_RESUME], c->event[DMTCP_EVENT_RESTART], c->event[DMTCP_EVENT_RUNNING], c->barriers,
         c->violations);
  if (decl_plugin_presuspends) printf(" declared-plugin-presuspend=%d", decl_plugin_presuspends());
  printf("\n");
  fflush(stdout);
}

int main(void) {
  g_counts.role = "parent";
  g_counts.dir = getenv("PLUGIN_DIR");
  dmtcp_register_plugin(g_plugin);
  if (!dmtcp_is_enabled()) {
    /* Without libckpt the calls are no-ops, not crashes. */
    dmtcp_global_barrier("nobody");
    puts(g_counts.event[DMTCP_EVENT_INIT] == 0 ? "no checkpointer" : "events without a checkpointer");
    return 0;
  }
  if (!g_counts.dir) {
    puts("PLUGIN_DIR is not set");
    return 1;
  }
  char finish[4096], ready[4096];
  snprintf(finish, sizeof finish, "%s/finish", g_counts.dir);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) g_counts.role = "child";
  snprintf(ready, sizeof ready, "%s/ready.%s", g_counts.dir, g_counts.role);
  int fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  while (access(finish, F_OK) != 0) sleep_ms(50);
  if (child == 0) {
    print_counts();
    return 0;
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    puts("the child failed");
    return 1;
  }
  print_counts();
  return 0;
}
