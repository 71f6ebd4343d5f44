# Shared set-up for tools/run and tools/test: install what is missing
# (Debian 12 packages only), then configure and build into build/.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build"

PACKAGES="cmake ninja-build g++ clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev bpftool
  libcli11-dev nlohmann-json3-dev libgtest-dev liburing-dev iproute2 procps
  tmux libbenchmark-dev clang-format prometheus-cpp-dev libcivetweb-dev
  libclang-rt-14-dev
  qemu-system-x86 busybox-static cpio
  prometheus systemd groff-base man-db dpkg-dev libc-ares-dev libldns-dev"

install_missing() {
  missing=""
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "tools: missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
    exit 2
  fi
  echo "tools: installing$missing" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
}

build() {
  cmake -S "$ROOT" -B "$BUILD" -G Ninja >&2
  cmake --build "$BUILD" -j "$(nproc)" >&2
}

install_missing
build
