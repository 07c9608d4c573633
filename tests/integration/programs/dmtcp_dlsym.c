/* dmtcp_dlsym STEPS PAUSE_MS: calls rand() through the wrapper of
 * dmtcp_dlsym_plugin.c (preloaded) once a step and prints the value and the
 * wrapper's count; at the end, where the wrapper's next rand lives, and what
 * dmtcp_dlsym answers the program itself: RTLD_NEXT from the program is the
 * wrapper (the first definition after it), RTLD_DEFAULT too, and a symbol
 * no object defines is NULL. Without libckpt, plain dlsym answers, the same. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *dmtcp_dlsym(void *handle, const char *symbol) __attribute__((weak));
int dlsym_plugin_calls(void) __attribute__((weak));
const char *dlsym_plugin_next_object(void) __attribute__((weak));

static void *lookup(void *handle, const char *symbol) {
  return dmtcp_dlsym ? dmtcp_dlsym(handle, symbol) : dlsym(handle, symbol);
}

/* Who defines `p`: the wrapper (the rand this program calls), or the
 * object's file name. */
static const char *owner(void *p) {
  Dl_info info;
  if (!p) return "(null)";
  if (p == (void *)rand) return "the wrapper";
  if (!dladdr(p, &info) || !info.dli_fname) return "(unknown)";
  const char *slash = strrchr(info.dli_fname, '/');
  return slash ? slash + 1 : info.dli_fname;
}

int main(int argc, char **argv) {
  if (argc != 3 || !dlsym_plugin_calls || !dlsym_plugin_next_object) {
    fprintf(stderr, "usage: %s STEPS PAUSE_MS, with dmtcp_dlsym_plugin preloaded\n", argv[0]);
    return 2;
  }
  int steps = atoi(argv[1]);
  long pause_ms = atol(argv[2]);
  srand(7);
  for (int step = 1; step <= steps; ++step) {
    int r = rand();
    printf("step %d rand %d calls %d\n", step, r, dlsym_plugin_calls());
    fflush(stdout);
    struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  }
  printf("the wrapper's next rand is in %s\n", dlsym_plugin_next_object());
  printf("RTLD_NEXT rand from the program: %s\n", owner(lookup(RTLD_NEXT, "rand")));
  printf("RTLD_DEFAULT rand: %s\n", owner(lookup(RTLD_DEFAULT, "rand")));
  printf("a symbol nobody defines: %s\n", owner(lookup(RTLD_NEXT, "ckpt_test_no_such_symbol")));
  return 0;
}
