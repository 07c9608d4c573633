/* A wrapper library as DMTCP plugins write them (their header's NEXT_FNC is
 * dmtcp_dlsym(RTLD_NEXT, ...)), preloaded with ckpt_launch --with-plugin,
 * after libckpt.so: it wraps the C library's rand() and counts the calls.
 * The next definition of rand after this library is the C library's; a
 * dmtcp_dlsym that searched after libckpt.so (where it is defined) instead
 * of after its caller would hand this wrapper itself back, and the first
 * call would recurse until the stack ran out.
 *
 * dmtcp_dlsym is weak: without libckpt (the uninterrupted reference run,
 * LD_PRELOAD of this library alone) plain dlsym(RTLD_NEXT) finds the same. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

void *dmtcp_dlsym(void *handle, const char *symbol) __attribute__((weak));

static int g_calls;
static int (*g_next)(void);
static char g_next_object[256];

static void resolve(void) {
  g_next = (int (*)(void))(dmtcp_dlsym ? dmtcp_dlsym(RTLD_NEXT, "rand") : dlsym(RTLD_NEXT, "rand"));
  Dl_info info;
  if (g_next && dladdr((void *)g_next, &info) && info.dli_fname) {
    const char *slash = strrchr(info.dli_fname, '/');
    strncpy(g_next_object, slash ? slash + 1 : info.dli_fname, sizeof g_next_object - 1);
  }
}

int rand(void) {
  if (!g_next) resolve();
  if (!g_next) return -1;
  ++g_calls;
  return g_next();
}

int dlsym_plugin_calls(void) { return g_calls; }
const char *dlsym_plugin_next_object(void) { return g_next_object; }
