#!/bin/bash
# Installs missing dependencies, builds, and runs the whole test suite with
# ctest. As root, runs it a second time as an unprivileged user (uid/gid
# 65534) on a copy of the sources under /tmp, since checkpoint/restart
# must work without privileges too. Exits non-zero if either pass fails.
. "$(dirname "$0")/common.sh"
install_deps
build

status=0
say "running the tests as $(id -un) (uid $(id -u))"
(cd "$CKPT_BUILD_DIR" && ctest -j "$CKPT_TEST_JOBS" --output-on-failure) || status=1

if [ "$(id -u)" -eq 0 ]; then
  unpriv=$(mktemp -d /tmp/ckpt-unpriv.XXXXXX)
  trap 'rm -rf "$unpriv"' EXIT
  say "copying the sources to $unpriv for the unprivileged pass"
  mkdir "$unpriv/src"
  tar -C "$CKPT_SRC" --exclude=./.git --exclude='./build*' --exclude='./install*' -cf - . | tar -C "$unpriv/src" -xf -
  chown -R 65534:65534 "$unpriv"
  # A build of its own: build trees name their paths absolutely, and the
  # user must be able to reach every file the tests use.
  say "building and running the tests as uid 65534"
  setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$unpriv" TMPDIR=/tmp bash -c '
    cmake -S "$1/src" -B "$1/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
      cmake --build "$1/build" -j "$2" >/dev/null &&
      cd "$1/build" && ctest -j "$3" --output-on-failure' _ "$unpriv" "$CKPT_JOBS" "$CKPT_TEST_JOBS" || status=1
fi

if [ "$status" -eq 0 ]; then say "all tests passed"; else say "TESTS FAILED"; fi
exit "$status"
