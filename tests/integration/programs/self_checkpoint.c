/* The application API: atcheckpoint/atrestart callbacks run in registration
 * order, and ckpt_checkpoint() returns CKPT_CHECKPOINTED in the checkpointed
 * process and CKPT_RESTARTED in the process restored from that checkpoint.
 *
 * Prints "step N" lines; at step 3 it checkpoints itself. After a successful
 * checkpoint it waits to be killed; the restarted process goes on from the
 * return of ckpt_checkpoint(). */
#include <stdio.h>
#include <unistd.h>

#include "ckpt/plugin.h"

static void note(const char *what) {
  printf("%s\n", what);
  fflush(stdout);
}
static void atcheckpoint_first(void) { note("atcheckpoint first"); }
static void atcheckpoint_second(void) { note("atcheckpoint second"); }
static void atrestart_first(void) { note("atrestart first"); }
static void atrestart_second(void) { note("atrestart second"); }

int main(void) {
  if (!ckpt_is_enabled()) {
    note("not running under ckpt_launch");
    return 1;
  }
  ckpt_atcheckpoint(atcheckpoint_first);
  ckpt_atcheckpoint(atcheckpoint_second);
  ckpt_atrestart(atrestart_first);
  ckpt_atrestart(atrestart_second);
  for (int step = 1; step <= 6; step++) {
    printf("step %d\n", step);
    fflush(stdout);
    if (step == 3) {
      int r = ckpt_checkpoint();
      if (r == CKPT_CHECKPOINTED) {
        note("ckpt_checkpoint: checkpointed");
        for (;;) pause(); /* the test kills us here */
      }
      note(r == CKPT_RESTARTED ? "ckpt_checkpoint: restarted" : "ckpt_checkpoint: failed");
    }
  }
  return 0;
}
