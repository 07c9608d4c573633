# Shared by the scripts in this directory: dependencies and the build.
# Source it; it defines functions and these settings:
#   CKPT_SRC        the repository (this script's parent directory)
#   CKPT_BUILD_DIR  build tree (default: $CKPT_SRC/build)
#   CKPT_JOBS       parallel build jobs (default: 2)
#   CKPT_TEST_JOBS  tests run at once (default: 2)

set -euo pipefail

CKPT_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CKPT_BUILD_DIR=${CKPT_BUILD_DIR:-$CKPT_SRC/build}
CKPT_JOBS=${CKPT_JOBS:-2}
# Tests wait on sleeps and timeouts far more than on the CPU: two at a time
# halves the suite's time on 2 cores.
CKPT_TEST_JOBS=${CKPT_TEST_JOBS:-2}

# Debian packages needed to build and test (util-linux provides setpriv for
# the unprivileged test pass; clang-14 and libclang-rt-14-dev, its libFuzzer
# and sanitizer runtimes, which clang only recommends, build the fuzz targets
# of scripts/fuzz.sh; libsodium-dev: the connection handshake's HMAC;
# iproute2: network namespaces in coordinator_auth; vim-tiny: vim_edit;
# redis-server: a real server under checkpoint in socket_redis; postgresql:
# the database of pg_pgbench).
CKPT_PACKAGES=(cmake g++ make libboost-dev liblz4-dev libunwind-dev libgtest-dev libcli11-dev nlohmann-json3-dev
  libsodium-dev python3 iproute2 vim-tiny util-linux clang-14 libclang-rt-14-dev redis-server
  postgresql gdb)
CKPT_CLANG=clang-14
CKPT_CLANGXX=clang++-14

say() { printf '\n==> %s\n' "$*"; }

# as_root CMD...: runs CMD as root, through sudo when we are not root.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "error: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

# install_deps: apt-get installs whichever of CKPT_PACKAGES is missing.
install_deps() {
  local missing=() pkg
  for pkg in "${CKPT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "all build dependencies are installed"
    return 0
  fi
  say "installing missing packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# build: configures and builds $CKPT_BUILD_DIR. Build-tree binaries find their
# shared libraries through $ORIGIN-relative rpaths, so a copy of the build
# tree works on its own (scripts/test.sh runs tests in one).
build() {
  say "configuring $CKPT_BUILD_DIR"
  cmake -S "$CKPT_SRC" -B "$CKPT_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON
  say "building with $CKPT_JOBS jobs"
  cmake --build "$CKPT_BUILD_DIR" -j "$CKPT_JOBS"
}
