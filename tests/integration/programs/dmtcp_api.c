/* A program written for DMTCP's dmtcp.h, built against ckpt's (plugins/dmtcp):
 * it asks for its own checkpoint, keeps checkpoints out of a critical
 * section, and asks for its image and counts. Prints a fixed sequence that
 * dmtcp_api.sh checks, across a kill and a restart. Run without ckpt it says
 * so (the weak symbols are absent).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmtcp.h"

static void say(const char *text) {
  puts(text);
  fflush(stdout);
}

static int checkpoints(void) {
  int c = -1, r = -1;
  return dmtcp_get_local_status(&c, &r) == DMTCP_IS_PRESENT ? c : -1;
}

int main(void) {
  if (!dmtcp_is_enabled()) {
    say(dmtcp_checkpoint() == DMTCP_NOT_PRESENT ? "no checkpointer" : "wrong answer without a checkpointer");
    return 0;
  }
  say("enabled");
  printf("generation before any checkpoint: %u\n", (unsigned)dmtcp_get_generation());
  fflush(stdout);
  int rc = dmtcp_checkpoint();
  if (rc == DMTCP_AFTER_CHECKPOINT) {
    printf("generation after the checkpoint: %s\n", dmtcp_get_generation() > 0 ? "grown" : "NOT GROWN");
    const char *image = dmtcp_get_ckpt_filename();
    int in_dir = image && strncmp(image, dmtcp_get_ckpt_dir(), strlen(dmtcp_get_ckpt_dir())) == 0 &&
                 access(image, R_OK) == 0;
    printf("after checkpoint: image %s, %d checkpoint(s)\n", in_dir ? "in the checkpoint directory" : "MISSING",
           checkpoints());
    fflush(stdout);
    /* The harness kills us here and restarts from that image. */
    for (;;) pause();
  }
  if (rc != DMTCP_AFTER_RESTART) {
    say("dmtcp_checkpoint failed");
    return 1;
  }
  int c = -1, r = -1;
  dmtcp_get_local_status(&c, &r);
  printf("after restart: %d restart(s), image %s, generation %s\n", r, dmtcp_get_ckpt_filename() ? "known" : "MISSING",
         dmtcp_get_generation() > 0 ? "grown" : "NOT GROWN");
  fflush(stdout);

  /* A section no checkpoint may cut: the harness asks for one once it sees
   * "section start"; it must be taken only after the section. */
  if (dmtcp_disable_ckpt() != 1) say("dmtcp_disable_ckpt failed");
  int before = checkpoints();
  say("section start");
  struct timespec ts = {1, 500000000};
  nanosleep(&ts, NULL);
  int inside = checkpoints() - before;
  if (dmtcp_enable_ckpt() != 1) say("dmtcp_enable_ckpt failed");
  printf("checkpoints inside the section: %d\n", inside);
  fflush(stdout);
  while (checkpoints() == before) {
    struct timespec t = {0, 20000000};
    nanosleep(&t, NULL);
  }
  say("the delayed checkpoint was taken after the section");
  return 0;
}
