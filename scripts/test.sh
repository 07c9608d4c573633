#!/bin/bash
# Installs missing dependencies, builds, and runs the whole test suite with
# ctest. As root, runs it a second time as an unprivileged user (uid/gid
# 65534) on a copy of the build tree under /tmp, since checkpoint/restart
# must work without privileges too. Exits non-zero if either pass fails.
. "$(dirname "$0")/common.sh"
install_deps
build

status=0
say "running the tests as $(id -un) (uid $(id -u))"
(cd "$CKPT_BUILD_DIR" && ctest --output-on-failure) || status=1

if [ "$(id -u)" -eq 0 ]; then
  unpriv=$(mktemp -d /tmp/ckpt-unpriv.XXXXXX)
  trap 'rm -rf "$unpriv"' EXIT
  say "copying sources and build tree to $unpriv for the unprivileged pass"
  mkdir "$unpriv/src"
  tar -C "$CKPT_SRC" --exclude=./.git --exclude='./build*' --exclude='./install*' -cf - . | tar -C "$unpriv/src" -xf -
  cp -a "$CKPT_BUILD_DIR" "$unpriv/build"
  # ctest's files (CTestTestfile.cmake, gtest's test lists, DartConfiguration.tcl)
  # name the tree by absolute path: point them at the copies (the build tree
  # first, as it may lie inside the source tree).
  grep -rlF --include='*.cmake' --include='*.tcl' -e "$CKPT_BUILD_DIR" -e "$CKPT_SRC" "$unpriv/build" |
    xargs -r sed -i -e "s|$CKPT_BUILD_DIR|$unpriv/build|g" -e "s|$CKPT_SRC|$unpriv/src|g"
  chown -R 65534:65534 "$unpriv"
  say "running the tests as uid 65534"
  (cd "$unpriv/build" &&
    setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$unpriv" TMPDIR=/tmp ctest --output-on-failure) ||
    status=1
fi

if [ "$status" -eq 0 ]; then say "all tests passed"; else say "TESTS FAILED"; fi
exit "$status"
