#!/bin/bash
# Host side of the qemu suite (see README.md here). Driven by ctest:
#
#   vm.sh prepare     static netacct + kernel and verifier tests, Debian's
#                     6.1 cloud kernel (apt-get download, cached), the initramfs
#   vm.sh run MODE    boot the guest for MODE (doctor|verifier|auto|fentry|
#                     kprobe|wire) and turn its output into pass/fail
#   vm.sh exec 'CMDS' boot the guest and run CMDS there (debugging)
#
# Configuration (environment; tests/vm/CMakeLists.txt sets it):
#   NETACCT_VM_DIR          work and cache directory (default build/vm)
#   NETACCT_VM_STATIC_DIR   build directory of the static binaries
#                           (default build/static)
#   NETACCT_VM_BUILD_STATIC 1: configure and build NETACCT_VM_STATIC_DIR here
#   NETACCT_VM_GENERATOR, NETACCT_VM_BUILD_TYPE, NETACCT_VM_CMAKE,
#   NETACCT_VM_CC, NETACCT_VM_CXX   for that build
# Knobs:
#   NETACCT_VM_KERNEL_PKG   a linux-image package (default: the newest
#                           linux-image-6.1.0-N-cloud-amd64-unsigned)
#   NETACCT_VM_KERNEL_DEB   use this .deb file, download nothing
#   NETACCT_VM_TIMEOUT      seconds before a guest is killed (default 840)
#   NETACCT_VM_SCALE        NETACCT_TEST_TIMEOUT_SCALE in the guest (default 10)
#   NETACCT_VM_FILTER       gtest filter for the kernel tests (no spaces)
#   NETACCT_VM_SMP          guest CPUs (default 1: faster under TCG)
#   NETACCT_VM_VERBOSE=1    NETACCT_TEST_VERBOSE in the guest; print all output
# A missing tool or kernel skips (exit 77), or fails when CI=true.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
VM=${NETACCT_VM_DIR:-$SRC/build/vm}
STATIC=${NETACCT_VM_STATIC_DIR:-$SRC/build/static}
CMAKE=${NETACCT_VM_CMAKE:-cmake}
KPKG_RE='^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$'
# Modules the tests need from the package; dependencies come from modules.dep.
MODULES="veth sch_ingress cls_bpf sctp"
# Tests that may skip in the guest (space-separated gtest names); any other
# skip fails the run. None: everything must run on 6.1 (the verifier's
# tracepoint test checks there that the load fails, as doctor says). The test
# binaries audit their own skips too (tests/kernel/support/skip_main.cpp:
# with CI=true, which the guest sets, a skip is a failure).
ALLOWED_SKIPS=""
ALLOWED_SKIPS_VERIFIER=""

NETACCT=$STATIC/netacct
KTESTS=$STATIC/tests/kernel/netacct_kernel_tests
VTESTS=$STATIC/tests/unit/netacct_verifier_tests
INITRAMFS=$VM/initramfs.cpio
KERNEL_ENV=$VM/kernel.env

TAG=vm
. "$HERE/../lib.sh"

# ---- prepare ----

build_static() {
  if [ "${NETACCT_VM_BUILD_STATIC:-1}" = 1 ]; then
    log "static build in $STATIC"
    local args=(-S "$SRC" -B "$STATIC" -DNETACCT_STATIC=ON)
    [ -f "$STATIC/CMakeCache.txt" ] || args+=(-G "${NETACCT_VM_GENERATOR:-Ninja}")
    [ -n "${NETACCT_VM_BUILD_TYPE:-}" ] && args+=(-DCMAKE_BUILD_TYPE="$NETACCT_VM_BUILD_TYPE")
    [ -n "${NETACCT_VM_CC:-}" ] && args+=(-DCMAKE_C_COMPILER="$NETACCT_VM_CC")
    [ -n "${NETACCT_VM_CXX:-}" ] && args+=(-DCMAKE_CXX_COMPILER="$NETACCT_VM_CXX")
    "$CMAKE" "${args[@]}" >"$VM/static-configure.log" 2>&1 ||
      { cat "$VM/static-configure.log"; die "configuring the static build failed"; }
    "$CMAKE" --build "$STATIC" -j "$(nproc)" --target netacct netacct_kernel_tests netacct_verifier_tests ||
      die "the static build failed"
  fi
  for b in "$NETACCT" "$KTESTS" "$VTESTS"; do
    [ -x "$b" ] || die "$b is missing (build the NETACCT_STATIC=ON tree first)"
    if LC_ALL=C ldd "$b" >/dev/null 2>&1; then die "$b is not statically linked"; fi
  done
}

# The newest linux-image-6.1.0-N-cloud-amd64-unsigned, from apt's lists.
newest_kernel_pkg() {
  apt-cache pkgnames linux-image-6.1.0- 2>/dev/null | grep -E "$KPKG_RE" | sort -V | tail -n 1
}

fetch_kernel() {
  local cache=$VM/cache deb="" pkg
  mkdir -p "$cache"
  if [ -n "${NETACCT_VM_KERNEL_DEB:-}" ]; then
    deb=$NETACCT_VM_KERNEL_DEB
    [ -f "$deb" ] || die "NETACCT_VM_KERNEL_DEB=$deb does not exist"
  else
    pkg=${NETACCT_VM_KERNEL_PKG:-$(newest_kernel_pkg)}
    if [ -z "$pkg" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "no $KPKG_RE in apt's lists: apt-get update"
      DEBIAN_FRONTEND=noninteractive apt-get update -q >"$VM/apt-update.log" 2>&1 || true
      pkg=$(newest_kernel_pkg)
    fi
    if [ -n "$pkg" ]; then
      local ver
      ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
      deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | grep -F "_${ver/:/%3a}_" | head -n 1 || true)
      if [ -z "$deb" ]; then
        log "apt-get download $pkg ($ver)"
        (cd "$cache" && rm -f ./*.deb.partial &&
          apt-get download -q "$pkg" >"$VM/apt-download.log" 2>&1) ||
          { cat "$VM/apt-download.log" >&2; log "apt-get download $pkg failed"; }
        deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n 1 || true)
        # Keep only this kernel in the cache.
        if [ -n "$deb" ]; then
          local old
          for old in "$cache"/linux-image-*.deb; do
            [ "$old" = "$deb" ] || rm -f "$old"
          done
          for old in "$VM"/kernel/*/; do
            [ "${old%/}" = "$VM/kernel/$(basename "$deb" .deb)" ] || rm -rf "$old"
          done
        fi
      fi
    fi
    # Offline, or apt knows no such kernel: the newest one cached earlier.
    if [ -z "$deb" ]; then
      deb=$(ls "$cache"/linux-image-6.1.0-*-cloud-amd64-unsigned_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
      [ -n "$deb" ] && log "using the cached $deb"
    fi
    [ -n "$deb" ] || unavailable "no linux-image-6.1.0-*-cloud-amd64-unsigned package: apt-get update (Debian 12 main), or set NETACCT_VM_KERNEL_DEB"
  fi
  local name kroot
  name=$(basename "$deb" .deb)
  kroot=$VM/kernel/$name
  if [ ! -f "$kroot/.unpacked" ]; then
    log "dpkg -x $(basename "$deb")"
    rm -rf "$kroot"
    mkdir -p "$kroot"
    dpkg -x "$deb" "$kroot"
    touch "$kroot/.unpacked"
  fi
  local vmlinuz kver
  vmlinuz=$(ls "$kroot"/boot/vmlinuz-* | head -n 1)
  kver=${vmlinuz##*/vmlinuz-}
  [ -d "$kroot/lib/modules/$kver" ] || die "$deb has no lib/modules/$kver"
  if [ ! -f "$kroot/lib/modules/$kver/modules.dep" ]; then
    busybox depmod -b "$kroot" "$kver" || die "depmod of $kver failed"
  fi
  printf 'KROOT=%q\nKVER=%q\nVMLINUZ=%q\nKDEB=%q\n' "$kroot" "$kver" "$vmlinuz" "$(basename "$deb")" >"$KERNEL_ENV"
}

# Copies host file $1 to the same path in the staging tree, following
# symlinks; ELF executables also get every library ldd names.
stage_file() {
  local f=$1 dst=$STAGE$1
  mkdir -p "$(dirname "$dst")"
  cp -L "$f" "$dst"
}
stage_dynamic() {
  local bin=$1 lib
  stage_file "$bin"
  for lib in $(LC_ALL=C ldd "$bin" | grep -oE '/[^ ]+' | sort -u); do
    stage_file "$lib"
  done
}

build_initramfs() {
  # shellcheck disable=SC1090
  . "$KERNEL_ENV"
  STAGE=$VM/initramfs.d
  rm -rf "$STAGE"
  mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,etc/netacct-vm,proc,sys,dev,tmp,run,root,lib,lib64}
  cp "$HERE/init.sh" "$STAGE/init"
  chmod 755 "$STAGE/init"

  # busybox (static) and its applets, except ip (iproute2's comes instead)
  # and sh: busybox's ash runs its own applets before anything on PATH (its
  # `timeout` has no --foreground), so /bin/sh is the host's dash.
  local bb a sh
  bb=$(command -v busybox)
  LC_ALL=C ldd "$bb" >/dev/null 2>&1 && unavailable "$bb is not static (install busybox-static)"
  cp "$bb" "$STAGE/bin/busybox"
  for a in $("$bb" --list); do
    case "$a" in busybox | ip | sh) continue ;; esac
    [ -e "$STAGE/bin/$a" ] || ln -s busybox "$STAGE/bin/$a"
  done
  if sh=$(command -v dash); then
    stage_dynamic "$sh"
    ln -sf "$sh" "$STAGE/bin/sh"
  else
    log "warning: no dash here; /bin/sh is busybox ash, which prefers its own applets"
    ln -s busybox "$STAGE/bin/sh"
  fi

  # iproute2 (support/netns.cpp runs `ip`) and bpftool (for `vm.sh exec`
  # debugging; the tests read BPF object ids with bpf(2)), with their libraries.
  local ip bpftool
  ip=$(PATH=/usr/sbin:/sbin:$PATH command -v ip) || unavailable "ip not found (iproute2)"
  bpftool=$(PATH=/usr/sbin:/sbin:$PATH command -v bpftool) || unavailable "bpftool not found"
  stage_dynamic "$ip"
  [ "$ip" = /usr/sbin/ip ] || { mkdir -p "$STAGE/usr/sbin"; cp -L "$ip" "$STAGE/usr/sbin/ip"; }
  stage_dynamic "$bpftool"
  [ "$bpftool" = /usr/sbin/bpftool ] || cp -L "$bpftool" "$STAGE/usr/sbin/bpftool"
  # top_tmux_test.cpp drives `netacct top` in tmux, bounded by coreutils'
  # `timeout --foreground` (busybox's has no --foreground); the panes need
  # C.UTF-8 locale (LANG=C.UTF-8) and terminfo entries.
  local tool path
  for tool in tmux timeout; do
    if path=$(command -v "$tool") && [ "$(readlink -f "$path")" != "$(readlink -f "$bb")" ]; then
      stage_dynamic "$path"
      [ -e "$STAGE/usr/bin/$tool" ] || cp -L "$path" "$STAGE/usr/bin/$tool"
    else
      log "warning: no $tool on this machine; the guest's tests that need it will fail"
    fi
  done
  local ti
  for ti in /usr/lib/locale/C.utf8 /lib/terminfo /usr/share/terminfo/s/screen* /usr/share/terminfo/t/tmux*; do
    [ -e "$ti" ] || continue
    mkdir -p "$STAGE$(dirname "$ti")"
    cp -a "$ti" "$STAGE$(dirname "$ti")/"
  done

  # The static binaries, at their host paths: the kernel tests exec the
  # netacct path compiled into them (NETACCT_BIN).
  local b
  for b in "$NETACCT" "$KTESTS" "$VTESTS"; do
    mkdir -p "$STAGE$(dirname "$b")"
    strip --strip-debug -o "$STAGE$b" "$b"
  done
  echo "$NETACCT" >"$STAGE/etc/netacct-vm/netacct"
  echo "$KTESTS" >"$STAGE/etc/netacct-vm/ktests"
  echo "$VTESTS" >"$STAGE/etc/netacct-vm/vtests"

  # Modules and their dependencies (modules.dep of the whole package).
  local m line rel
  local mdir=lib/modules/$KVER
  mkdir -p "$STAGE/$mdir"
  for m in $MODULES; do
    line=$(grep -E "(^|/)${m}\.ko(\.[a-z]+)?:" "$KROOT/$mdir/modules.dep" || true)
    [ -n "$line" ] || die "module $m is not in $KDEB"
    for rel in ${line/:/}; do
      mkdir -p "$STAGE/$mdir/$(dirname "$rel")"
      cp "$KROOT/$mdir/$rel" "$STAGE/$mdir/$rel"
    done
  done
  cp "$KROOT/$mdir/modules.builtin" "$STAGE/$mdir/" 2>/dev/null || true
  busybox depmod -b "$STAGE" "$KVER" || die "depmod of the initramfs modules failed"
  echo "$MODULES" >"$STAGE/etc/netacct-vm/modules"

  cat >"$STAGE/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$STAGE/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files\n' >"$STAGE/etc/nsswitch.conf"
  printf '127.0.0.1 localhost netacct-vm\n::1 localhost\n' >"$STAGE/etc/hosts"
  echo netacct-vm >"$STAGE/etc/hostname"
  # The kernel opens /dev/console before /init runs (only root can mknod;
  # otherwise /init reopens it once devtmpfs is mounted).
  mknod -m 600 "$STAGE/dev/console" c 5 1 2>/dev/null || true

  (cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) >"$INITRAMFS.tmp"
  mv "$INITRAMFS.tmp" "$INITRAMFS"
  log "initramfs $(du -h "$INITRAMFS" | cut -f1) for $KVER ($KDEB)"
}

prepare() {
  need qemu-system-x86_64 qemu-system-x86
  need busybox busybox-static
  need cpio cpio
  need dpkg dpkg
  mkdir -p "$VM"
  local t0=$SECONDS
  build_static
  fetch_kernel
  build_initramfs
  log "prepared in $((SECONDS - t0)) s"
}

# ---- run ----

# The gtest output of failed tests: each "[ RUN ] X" .. "[ FAILED ] X" block,
# and the block of a test that never finished (guest timeout or crash).
failed_blocks() {
  awk '
    /^\[ RUN      \] / { buf = $0 "\n"; inb = 1; next }
    inb { buf = buf $0 "\n" }
    /^\[  FAILED  \] .*\([0-9]+ ms\)$/ { if (inb) printf "%s", buf; inb = 0 }
    /^\[       OK \] / { inb = 0 }
    /^\[  SKIPPED \] .*\([0-9]+ ms\)$/ { inb = 0 }
    END { if (inb) printf "%s(this test did not finish)\n", buf }
  ' <(sed '/^@@VM dmesg-begin/,$d' "$1")
}

section() { sed -n "/^@@VM $2-begin/,/^@@VM $2-end/p" "$1" | sed '1d;$d'; }

check_doctor() {
  local json=$1
  "$CMAKE" -DJSON="$json" -P "$HERE/check_doctor.cmake"
}

# vm.sh exec 'COMMANDS': boots the guest, runs COMMANDS there with sh
# ($NETACCT, $KTESTS and $VTESTS name the binaries), prints their output.
exec_mode() {
  [ -f "$INITRAMFS" ] && [ -f "$KERNEL_ENV" ] || die "run vm.sh prepare (ctest -R vm_prepare) first"
  # shellcheck disable=SC1090
  . "$KERNEL_ENV"
  local extra=$VM/exec.d out=$VM/exec.out console=$VM/exec.console.log
  rm -rf "$extra"
  mkdir -p "$extra/etc/netacct-vm"
  printf '%s\n' "$1" >"$extra/etc/netacct-vm/exec"
  # A second cpio archive appended to the first adds (or replaces) files.
  { cat "$INITRAMFS"; (cd "$extra" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet); } >"$VM/exec.cpio"
  local limit=${NETACCT_VM_TIMEOUT:-840} rc=0
  timeout -k 10 "$limit" qemu-system-x86_64 -accel tcg -cpu max -smp "${NETACCT_VM_SMP:-1}" -m 2G \
    -nographic -no-reboot -monitor none -nic none \
    -kernel "$VMLINUZ" -initrd "$VM/exec.cpio" \
    -append "console=ttyS0 quiet panic=-1 oops=panic netacct.mode=exec" \
    -serial stdio -serial "file:$out" </dev/null >"$console" 2>&1 || rc=$?
  tr -d '\r' <"$out" | sed '/^@@VM dmesg-begin/,$d'
  grep -q '^@@VM end' "$out" || { tail -n 40 "$console"; die "the guest did not finish (qemu exit $rc)"; }
}

# vm.sh run MODE [I/N]: boots a guest for MODE; with I/N it runs shard I
# (0-based) of N of that mode's kernel tests (gtest sharding).
run_mode() {
  local mode=$1 shard=${2:-}
  case "$mode" in doctor | verifier | auto | fentry | kprobe | wire) ;; *) die "unknown mode $mode" ;; esac
  case "$shard" in "" | [0-9]/[1-9]) ;; *) die "bad shard '$shard' (I/N, I < N)" ;; esac
  [ -z "$shard" ] || [ "${shard%/*}" -lt "${shard#*/}" ] || die "bad shard '$shard' (I/N, I < N)"
  local name=$mode${shard:+_${shard%/*}of${shard#*/}}
  need qemu-system-x86_64 qemu-system-x86
  [ -f "$INITRAMFS" ] && [ -f "$KERNEL_ENV" ] || unavailable "$INITRAMFS is missing: the vm_prepare test did not run or failed"
  # shellcheck disable=SC1090
  . "$KERNEL_ENV"
  local out=$VM/$name.out console=$VM/$name.console.log
  local limit=${NETACCT_VM_TIMEOUT:-840}
  local append="console=ttyS0 quiet panic=-1 oops=panic netacct.mode=$mode"
  [ -n "$shard" ] && append+=" netacct.shard=$shard"
  # The guest stops the tests a little earlier, to report what it can.
  append+=" netacct.scale=${NETACCT_VM_SCALE:-10} netacct.timeout=$((limit > 120 ? limit - 60 : limit * 3 / 4))"
  [ -n "${NETACCT_VM_FILTER:-}" ] && append+=" netacct.filter=$NETACCT_VM_FILTER"
  [ -n "${NETACCT_VM_VERBOSE:-}" ] && append+=" netacct.verbose=1"
  rm -f "$out" "$console"
  log "booting $KVER ($KDEB) for '$name': qemu TCG, limit ${limit}s"
  local t0=$SECONDS rc=0
  timeout -k 10 "$limit" qemu-system-x86_64 -accel tcg -cpu max -smp "${NETACCT_VM_SMP:-1}" -m 2G \
    -nographic -no-reboot -monitor none -nic none \
    -kernel "$VMLINUZ" -initrd "$INITRAMFS" -append "$append" \
    -serial stdio -serial "file:$out" </dev/null >"$console" 2>&1 || rc=$?
  local secs=$((SECONDS - t0))
  touch "$out"
  tr -d '\r' <"$out" >"$out.txt" && mv "$out.txt" "$out"

  local verdict="" summary=""
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    verdict="the guest was killed after ${limit}s (hung or too slow)"
  elif ! grep -q '^@@VM end' "$out"; then
    verdict="the guest stopped before finishing (qemu exit $rc; crash or panic? see the console)"
  fi
  local grc
  grc=$(sed -n 's/^@@VM rc //p' "$out" | tail -n 1)
  if [ -z "$verdict" ]; then
    if [ "$mode" = doctor ]; then
      local json
      json=$(sed -n 's/^@@VM doctor-json //p' "$out" | tail -n 1)
      if ! summary=$(check_doctor "$json" 2>&1); then verdict="doctor: $summary"; fi
      [ "$grc" = 0 ] || verdict="${verdict:+$verdict; }netacct doctor --format json exited $grc"
    else
      local bad_skips="" s allowed=$ALLOWED_SKIPS
      [ "$mode" = verifier ] && allowed=$ALLOWED_SKIPS_VERIFIER
      for s in $(sed -n 's/^\[  SKIPPED \] \([^ ,]*\).* ([0-9]* ms)$/\1/p' "$out" | sort -u); do
        case " $allowed " in *" $s "*) ;; *) bad_skips+=" $s" ;; esac
      done
      summary=$(grep -E '^\[==========\] [0-9]+ tests? from .* ran|^\[  PASSED  \]|^\[  SKIPPED \] [0-9]+|^\[  FAILED  \] [0-9]+|FAILED TESTS?$' "$out" | tr '\n' ' ' || true)
      if [ "$grc" != 0 ]; then
        verdict="the tests exited $grc"
      elif ! grep -q '^\[  PASSED  \] [1-9]' "$out"; then
        verdict="no test passed"
      elif [ -n "$bad_skips" ]; then
        verdict="tests skipped that must run in the guest:$bad_skips"
      fi
    fi
  fi

  if [ -n "${NETACCT_VM_VERBOSE:-}" ] || [ -n "$verdict" ]; then
    echo "---- guest output ($out)"
    if [ -n "$verdict" ] && [ "$mode" != doctor ] && [ -z "${NETACCT_VM_VERBOSE:-}" ]; then
      sed -e '/^@@VM dmesg-begin/,$d' "$out" | grep '^@@VM ' || true
      echo "---- gtest summary"
      sed -e '/^@@VM dmesg-begin/,$d' "$out" | sed -n '/^\[==========\] [0-9]* tests\{0,1\} from .* ran/,$p' | grep -v '^@@VM ' || true
      echo "---- output of the failed tests"
      failed_blocks "$out"
    else
      sed '/^@@VM dmesg-begin/,$d' "$out"
    fi
    echo "---- guest dmesg since /init started"
    section "$out" dmesg | sed -n '/Run \/init as init process/,$p' |
      grep -v 'ADDRCONF(NETDEV_CHANGE)' | tail -n 150 || true
    echo "---- guest console ($console), last 60 lines"
    tail -n 60 "$console"
    echo "----"
  fi
  if [ -n "$verdict" ]; then
    echo "vm_$name: FAILED after ${secs}s on $KVER: $verdict"
    exit 1
  fi
  echo "vm_$name: passed in ${secs}s on $KVER ($KDEB): $summary"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run_mode "${2:?usage: vm.sh run doctor|verifier|auto|fentry|kprobe|wire [I/N]}" "${3:-}" ;;
  exec) exec_mode "${2:?usage: vm.sh exec 'COMMANDS'}" ;;
  *) echo "usage: vm.sh prepare | vm.sh run doctor|verifier|auto|fentry|kprobe|wire [I/N] | vm.sh exec 'COMMANDS'" >&2; exit 2 ;;
esac
