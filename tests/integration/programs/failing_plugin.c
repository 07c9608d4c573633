/* failing_plugin STEPS PAUSE_MS FAIL_FILE: a third-party plugin on the public
 * API (ckpt/plugin.h) that saves its state in a section of its own, and fails
 * the checkpoint with its own reason while FAIL_FILE exists (or, if the file
 * says "section", by ignoring what a failed ckpt_save_section returns). Prints
 * "step N SUM" lines; the sum lives in the plugin's state, which a restart
 * gets back from its section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt/plugin.h"

static const char *g_fail_file;
static unsigned long g_sum;
static unsigned long g_restored;

static void flaky_event(ckpt_event_t event, void *data) {
  (void)data;
  if (event == CKPT_EVENT_PRE_CHECKPOINT) {
    FILE *fail = fopen(g_fail_file, "r");
    if (fail) {
      char how[16] = "";
      if (!fgets(how, sizeof how, fail)) how[0] = '\0';
      fclose(fail);
      if (strncmp(how, "section", 7) == 0)
        ckpt_save_section("flaky-state-with-a-name-longer-than-31-bytes", &g_sum, sizeof g_sum);
      else
        ckpt_fail_checkpoint("flaky: the device is busy, try again later");
      return;
    }
    ckpt_save_section("flaky", &g_sum, sizeof g_sum);
  } else if (event == CKPT_EVENT_RESTART) {
    g_restored = g_sum;
  }
}

static const struct ckpt_plugin g_plugin = {"flaky", flaky_event};

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s STEPS PAUSE_MS FAIL_FILE\n", argv[0]);
    return 2;
  }
  int steps = atoi(argv[1]), pause_ms = atoi(argv[2]);
  g_fail_file = argv[3];
  if (ckpt_is_enabled() && ckpt_register_plugin(&g_plugin) != 0) {
    fprintf(stderr, "failing_plugin: cannot register\n");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int step = 1; step <= steps; ++step) {
    g_sum = g_sum * 31 + (unsigned long)step;
    printf("step %d %lu\n", step, g_sum);
    struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  return 0;
}
