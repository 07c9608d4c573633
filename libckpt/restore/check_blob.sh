#!/bin/sh
# The restorer runs from a copy at an arbitrary address with nothing else
# mapped: it may not call out of itself, nor hold an absolute address.
set -eu
obj=$1
undefined=$(nm -u "$obj")
if [ -n "$undefined" ]; then
  echo "restorer: undefined symbols (calls out of the blob): $undefined" >&2
  exit 1
fi
bad=$(readelf -rW "$obj" | awk '/R_X86_64_/ && $3 !~ /^R_X86_64_(PC32|PLT32)$/ {print $3}' | sort -u)
if [ -n "$bad" ]; then
  echo "restorer: relocations that are not PC-relative: $bad" >&2
  exit 1
fi
