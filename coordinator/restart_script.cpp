#include "restart_script.h"

#include <set>

#include "text.h"

namespace ckpt::coord {

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string render_restart_script(const RestartScriptInfo& info) {
  std::string s;
  s += "#!/bin/sh\n";
  s += "# Written by ckpt_coordinator: restarts checkpoint generation " + std::to_string(info.generation) +
       " (" + info.when + ", " + plural(info.images.size(), "process") + ").\n";
  s += "# Usage: " + std::string(kRestartScriptName) +
       " [--coord-host HOST] [--coord-port PORT] [ckpt_restart options...]\n";
  if (!info.image_hosts.empty()) {
    std::set<std::string> hosts(info.image_hosts.begin(), info.image_hosts.end());
    std::string list;
    for (const std::string& host : hosts) list += " " + host;
    s += "# The processes ran on " + plural(hosts.size(), "host") + ":" + list +
         ". Each host's are restarted there through the\n"
         "# remote shell (--rsh CMD, default ssh), or elsewhere with --host OLD=NEW or --hostfile FILE.\n";
  }
  s += "coord_host=" + shell_quote(info.coord_host) + "\n";
  s += "coord_port=" + shell_quote(std::to_string(info.coord_port)) + "\n";
  s += "ckpt_restart=" + shell_quote(info.restart_program) + "\n";
  s += "[ -x \"$ckpt_restart\" ] || ckpt_restart=ckpt_restart\n";
  s += R"(
# Take out our own options and rotate every other argument to the end of "$@",
# so they reach ckpt_restart in their original order.
n=$#
while [ "$n" -gt 0 ]; do
  arg=$1
  shift
  n=$((n - 1))
  case $arg in
    --coord-host | --coord-port)
      if [ "$n" -eq 0 ]; then
        echo "$0: $arg needs a value" >&2
        exit 2
      fi
      val=$1
      shift
      n=$((n - 1))
      ;;
    --coord-host=* | --coord-port=*)
      val=${arg#*=}
      arg=${arg%%=*}
      ;;
    *)
      set -- "$@" "$arg"
      continue
      ;;
  esac
  case $arg in
    --coord-host) coord_host=$val ;;
    --coord-port) coord_port=$val ;;
  esac
done

exec "$ckpt_restart" --coord-host "$coord_host" --coord-port "$coord_port" "$@")";
  for (size_t i = 0; i < info.images.size(); ++i) {
    const bool on_host = i < info.image_hosts.size() && !info.image_hosts[i].empty();
    s += " \\\n  " + shell_quote(on_host ? info.image_hosts[i] + ":" + info.images[i] : info.images[i]);
  }
  s += "\n";
  return s;
}

std::vector<std::string> restart_script_images(std::string_view script) {
  std::vector<std::string> images;
  const size_t exec = script.find("\nexec ");
  if (exec == std::string_view::npos) return images;
  size_t pos = script.find('\n', exec + 1);
  // One image per line: two spaces, the quoted path, " \\" but on the last.
  while (pos != std::string_view::npos && script.substr(pos + 1, 3) == "  '") {
    size_t i = pos + 3;
    std::string path;
    while (i < script.size() && script[i] == '\'') {
      const size_t close = script.find('\'', i + 1);
      if (close == std::string_view::npos) return images;
      path.append(script.substr(i + 1, close - i - 1));
      i = close + 1;
      if (script.substr(i, 2) == "\\'") {  // an escaped quote between two quoted pieces
        path += '\'';
        i += 2;
      }
    }
    // HOST:/PATH of a computation on several hosts.
    const size_t colon = path.find(":/");
    if (!path.starts_with('/') && colon != std::string::npos && path.find('/') == colon + 1) path.erase(0, colon + 1);
    images.push_back(std::move(path));
    pos = script.find('\n', i);
  }
  return images;
}

}  // namespace ckpt::coord
