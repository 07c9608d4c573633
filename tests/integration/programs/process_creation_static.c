// Linked with -static: LD_PRELOAD cannot reach it, so it runs outside the
// checkpoint. Sleeps SECONDS (so the test can look at the coordinator
// meanwhile), then exits with STATUS.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 0, status = argc > 2 ? atoi(argv[2]) : 0;
  printf("static program running\n");
  fflush(stdout);
  struct timespec ts = {seconds, 0};
  nanosleep(&ts, NULL);
  return status;
}
