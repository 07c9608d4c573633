#!/bin/bash
# Installs the Debian packages ckpt needs to build and test (only the missing ones).
. "$(dirname "$0")/common.sh"
install_deps
