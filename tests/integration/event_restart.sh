#!/bin/bash
# event_restart.sh CYCLES PROG [ARG...]: PROG (programs/event_loop.c, an epoll
# loop over event descriptors of every kind, with a forked child) is
# checkpointed, killed and restarted CYCLES times, each time while events are
# pending; the restarted program must finish with the uninterrupted run's
# output.
. "$(dirname "$0")/harness.sh"
cycles=$1
shift
h_cycle_test "$cycles" 5 -- "$@"
