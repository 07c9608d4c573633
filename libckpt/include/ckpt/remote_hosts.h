/* What libckpt (a command it starts through the remote shell) and
 * ckpt_restart (the restart of each host's processes) hand to another host,
 * checked by one rule. Plain C, no allocation: libckpt uses it right before
 * an exec. */
#ifndef CKPT_REMOTE_HOSTS_H
#define CKPT_REMOTE_HOSTS_H

#include <string.h>

/* CKPT_RSH (ckpt_launch --rsh) that turns the rewrite off: a program that
 * uses ssh for something else (git, rsync) inside the computation. */
#define CKPT_RSH_NONE "none"

/* The remote shell's options that take a value (ssh's; rsh's -l among them). */
#define CKPT_RSH_VALUE_OPTIONS "BbcDEeFIiJLlmOopQRSWw"

/* A word a remote shell passes on as it is: ssh gives the command to a shell
 * on the other host, so only these characters, and not an empty word. */
static inline int ckpt_shell_safe(const char *word) {
  if (!*word) return 0;
  for (; *word; ++word) {
    const char c = *word;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("_./:@%+=,-", c)))
      return 0;
  }
  return 1;
}

/* A coordinator address no other host can reach. */
static inline int ckpt_loopback_host(const char *host) {
  return !*host || !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

#endif /* CKPT_REMOTE_HOSTS_H */
