#!/bin/bash
# Installs missing dependencies and builds ckpt into $CKPT_BUILD_DIR (default: build/).
# With a prefix argument, also installs there: scripts/build.sh /opt/ckpt
. "$(dirname "$0")/common.sh"
install_deps
build
if [ $# -ge 1 ]; then
  say "installing into $1"
  cmake --install "$CKPT_BUILD_DIR" --prefix "$1"
fi
