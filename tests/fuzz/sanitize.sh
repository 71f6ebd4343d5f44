#!/bin/bash
# The sanitizer and fuzzing tier (see CMakeLists.txt here). Driven by ctest:
#
#   sanitize.sh prepare        configure and build the ASan+UBSan tree with
#                              clang and libFuzzer (NETACCT_FUZZ=ON)
#   sanitize.sh run BIN ARGS   run BIN of that tree (a path inside it) under
#                              the sanitizers' options below
#   sanitize.sh kernel BIN ARGS  run the ordinary build's kernel test binary
#                              BIN against that tree's netacct
#                              (NETACCT_TEST_BINARY): every netacct the
#                              suite starts is the sanitized one
#   sanitize.sh fuzz TARGET    run fuzz_TARGET from its seeds for
#                              NETACCT_FUZZ_SECONDS (default 60)
#
# Configuration (environment; tests/fuzz/CMakeLists.txt sets it):
#   NETACCT_SANITIZE_DIR        the tree (default build/sanitize)
#   NETACCT_SANITIZE_GENERATOR, NETACCT_SANITIZE_CMAKE   for its build
# Knobs:
#   NETACCT_FUZZ_SECONDS        how long each target runs (default 60)
#   NETACCT_FUZZ_RSS_MB         libFuzzer's -rss_limit_mb (default 2048)
# No clang or no libFuzzer skips (exit 77), or fails when CI=true.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
SAN=${NETACCT_SANITIZE_DIR:-$SRC/build/sanitize}
CMAKE=${NETACCT_SANITIZE_CMAKE:-cmake}

# Any report ends the process with an error: a test that hits one fails.
# Leaks are reported at exit (LeakSanitizer). The child netacct processes
# of the kernel tests inherit these.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

TAG=sanitize
. "$HERE/../lib.sh"

prepare() {
  command -v clang++ >/dev/null || unavailable "clang++ not found (apt-get install clang)"
  mkdir -p "$SAN"
  echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' \
    >"$SAN/probe.cpp"
  clang++ -fsanitize=fuzzer,address,undefined "$SAN/probe.cpp" -o "$SAN/probe" 2>"$SAN/probe.err" ||
    unavailable "clang cannot link libFuzzer: $(head -1 "$SAN/probe.err") (apt-get install libclang-rt-14-dev)"
  # -O1 and line tables only: less compile time than -O2 -g, and all the
  # sanitizers need for their stack traces. Assertions stay on
  # (no NDEBUG): nlohmann-json's among them.
  local flags="-O1 -gline-tables-only"
  local args=(-S "$SRC" -B "$SAN" -DNETACCT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
              -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
              -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags")
  [ -f "$SAN/CMakeCache.txt" ] || args+=(-G "${NETACCT_SANITIZE_GENERATOR:-Ninja}")
  "$CMAKE" "${args[@]}" >"$SAN/configure.log" 2>&1 ||
    { cat "$SAN/configure.log"; die "configuring $SAN failed"; }
  log "building $SAN"
  "$CMAKE" --build "$SAN" -j "$(nproc)" --target netacct netacct_unit_tests \
    netacct_top_tests netacct_fuzz_targets ||
    die "the sanitizer build failed"
}

run() {
  local bin=$SAN/$1
  shift
  [ -x "$bin" ] || die "$bin is missing (sanitize_prepare builds it)"
  exec "$bin" "$@"
}

kernel() {
  local bin=$1
  shift
  [ -x "$SAN/netacct" ] || die "$SAN/netacct is missing (sanitize_prepare builds it)"
  # The test harness itself needs no sanitizer: what is under test is the
  # netacct it starts, and building the suite a second time with clang would
  # cost CI minutes.
  NETACCT_TEST_BINARY=$SAN/netacct exec "$bin" "$@"
}

fuzz() {
  local target=$1 bin=$SAN/tests/fuzz/fuzz_$1
  local seeds=$HERE/corpus/$target work=$SAN/fuzz/$target
  [ -x "$bin" ] || die "$bin is missing (sanitize_prepare builds it)"
  [ -d "$seeds" ] || die "no seeds in $seeds"
  mkdir -p "$work/corpus" "$work/artifacts"
  local args=(-max_total_time="${NETACCT_FUZZ_SECONDS:-60}" -timeout=10
              -rss_limit_mb="${NETACCT_FUZZ_RSS_MB:-2048}" -print_final_stats=1
              -artifact_prefix="$work/artifacts/")
  [ -f "$HERE/$target.dict" ] && args+=(-dict="$HERE/$target.dict")
  # New inputs go to the first directory (the build's), never to the seeds.
  log "fuzz_$target for ${NETACCT_FUZZ_SECONDS:-60} s from $(ls "$seeds" | wc -l) seeds"
  local status=0
  "$bin" "${args[@]}" "$work/corpus" "$seeds" >"$work/log" 2>&1 || status=$?
  if [ "$status" = 0 ]; then
    tail -n 12 "$work/log"  # the final stats: runs, coverage, corpus
  else
    tail -n 150 "$work/log"
    ls -l "$work/artifacts"
    die "fuzz_$target failed ($status); the input is in $work/artifacts, the log in $work/log"
  fi
}

case ${1:-} in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  kernel) shift; kernel "$@" ;;
  fuzz) fuzz "$2" ;;
  *) die "usage: sanitize.sh prepare | run BIN [ARGS] | kernel BIN [ARGS] | fuzz TARGET" ;;
esac
