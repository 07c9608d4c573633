#!/bin/bash
# multihost_socket.sh OUT NAME ARGS...: one end of the multi-host test's TCP
# connection (multihost.sh), it_socket_stream ARGS with its output in
# OUT/NAME.out (started through the remote shell, which passes words, not
# redirections).
out=$1 name=$2
shift 2
exec "$(dirname "$0")/it_socket_stream" "$@" >"$out/$name.out"
