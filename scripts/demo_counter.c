/* The demo's application: counts up, one line every half second, forever. */
#include <stdio.h>
#include <time.h>

int main(void) {
  struct timespec half = {0, 500000000L};
  for (unsigned long n = 1;; n++) {
    printf("count %lu\n", n);
    fflush(stdout);
    nanosleep(&half, NULL);
  }
}
