#include "remote_shell.h"

#include <string.h>

#include "ckpt/remote_hosts.h"
#include "log.h"

namespace ckpt {
namespace {

const char* base_name(const char* path, size_t len) {
  const char* slash = static_cast<const char*>(memrchr(path, '/', len));
  return slash ? slash + 1 : path;
}

// The next space-separated word of `spec` from `*at`; false at the end.
bool next_word(const char*& at, const char*& word, size_t& len) {
  while (*at == ' ' || *at == '\t') ++at;
  if (!*at) return false;
  word = at;
  while (*at && *at != ' ' && *at != '\t') ++at;
  len = static_cast<size_t>(at - word);
  return true;
}

// Whether `argv` starts with the words of `rsh`: the first by its base name.
int match_prefix(char* const* argv, const char* rsh) {
  const char* at = rsh;
  const char* word;
  size_t len;
  int n = 0;
  while (next_word(at, word, len)) {
    const char* arg = argv[n];
    if (!arg) return -1;
    if (n == 0) {
      const char* want = base_name(word, len);
      const size_t want_len = len - static_cast<size_t>(want - word);
      const char* got = base_name(arg, strlen(arg));
      if (strlen(got) != want_len || memcmp(got, want, want_len) != 0) return -1;
    } else if (strlen(arg) != len || memcmp(arg, word, len) != 0) {
      return -1;
    }
    ++n;
  }
  return n;
}

}  // namespace

RshMatch rewrite_remote_shell(char* const* argv, const RemoteJoin& join, RshArgv& out, char* why, size_t why_len) {
  if (!argv || !argv[0] || !join.rsh || !strcmp(join.rsh, CKPT_RSH_NONE)) return RshMatch::Other;
  int i = match_prefix(argv, join.rsh);
  if (i <= 0) return RshMatch::Other;
  // Options, then HOST.
  while (argv[i] && argv[i][0] == '-' && argv[i][1]) {
    const char* opt = argv[i++];
    if (!strcmp(opt, "--")) break;
    for (const char* c = opt + 1; *c; ++c)
      if (strchr(CKPT_RSH_VALUE_OPTIONS, *c)) {
        if (!c[1] && argv[i]) ++i;  // the value is the next argument
        break;
      }
  }
  if (!argv[i] || !argv[i + 1]) return RshMatch::Other;  // no host, or a login without a command
  const int host_at = i;
  const char* at = strrchr(argv[host_at], '@');
  format_to(out.host, sizeof out.host, "%s", at ? at + 1 : argv[host_at]);

  auto refuse = [&](const char* what) {
    format_to(why, why_len, "cannot start '%s' on %s inside the computation: %s", argv[host_at + 1], out.host, what);
    return RshMatch::Refused;
  };
  if (ckpt_loopback_host(join.coord_host)) {
    format_to(why, why_len,
              "'%s' on %s runs outside the computation: its coordinator is at %s, which other hosts cannot reach "
              "(launch with --coord-host and an address they reach, or --rsh none)",
              argv[host_at + 1], out.host, join.coord_host[0] ? join.coord_host : "localhost");
    return RshMatch::Outside;
  }
  if (!join.launch_path[0] || !join.secret_file[0]) return refuse("ckpt_launch or the secret file is unknown");
  format_to(out.port, sizeof out.port, "%u", join.coord_port);
  const char* inserted[] = {join.launch_path, "--join",      "--coord-host", join.coord_host,
                            "--coord-port",   out.port,      "--secret-file", join.secret_file,
                            "--host-name",    out.host,      "--ckptdir",    join.ckptdir,
                            "--"};
  for (const char* word : inserted)
    if (!ckpt_shell_safe(word)) {
      char text[4200];
      format_to(text, sizeof text, "'%s' has characters a remote shell would interpret", word);
      return refuse(text);
    }
  int n = 0;
  auto push = [&](const char* arg) {
    if (n + 1 >= RshArgv::kMaxArgs) return false;
    out.argv[n++] = const_cast<char*>(arg);
    return true;
  };
  for (int k = 0; k <= host_at; ++k) push(argv[k]);
  for (const char* word : inserted) push(word);
  for (int k = host_at + 1; argv[k]; ++k)
    if (!push(argv[k])) return refuse("too many arguments");
  out.argv[n] = nullptr;
  return RshMatch::Rewritten;
}

}  // namespace ckpt
