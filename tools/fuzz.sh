#!/usr/bin/env bash
# libFuzzer targets (tests/fuzz/*_fuzzer.cc), built by clang with ASan and UBSan in their
# own build directory, BUILD/fuzz, next to the main (g++) build.
#
#   tools/fuzz.sh build BUILD              configure and build every target
#   tools/fuzz.sh smoke BUILD NAME [SECS]  the seed corpus, then SECS (10) of fuzzing
#   tools/fuzz.sh run BUILD SECS [NAME...] build, then fuzz each target for SECS (`make fuzz`)
#
# Inputs found while fuzzing collect in BUILD/fuzz/corpus/NAME (the committed seeds in
# tests/fuzz/corpus/NAME are only read); a crash leaves its input in BUILD/fuzz/crashes/.
# Exit status: 0 clean, 1 a crash or a build failure, 77 clang is missing (ctest: skipped).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:?usage: fuzz.sh build|smoke|run BUILD ...}
mkdir -p "${2:?missing BUILD directory}"
BUILD=$(cd "$2" && pwd)
FDIR=$BUILD/fuzz
CC=${FUZZ_CC:-clang-14}
CXX=${FUZZ_CXX:-clang++-14}

targets() {
  local f
  for f in "$SRC"/tests/fuzz/*_fuzzer.cc; do basename "$f" _fuzzer.cc; done
}

build() {
  if ! command -v "$CXX" >/dev/null; then
    echo "fuzz: $CXX not found (tools/deps.sh installs clang-14)"
    exit 77
  fi
  if [ ! -f "$FDIR/build.ninja" ]; then
    # -O1 -g1: the usual sanitizer trade-off, readable stacks without -O2's compile time.
    cmake -S "$SRC" -B "$FDIR" -G Ninja -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
      -DBULKHEAD_FUZZ=ON -DBULKHEAD_TESTS=OFF -DCMAKE_BUILD_TYPE=None \
      -DCMAKE_C_FLAGS="-O1 -g1" -DCMAKE_CXX_FLAGS="-O1 -g1" >"$BUILD/fuzz-configure.log" 2>&1 || {
      cat "$BUILD/fuzz-configure.log"
      exit 1
    }
  fi
  ninja -C "$FDIR" fuzzers
}

# fuzz NAME SECS: the committed seeds first (a crash there is a regression), then SECS of
# mutation. Prints one summary line; the full log stays in BUILD/fuzz/logs/NAME.log.
fuzz() {
  local name=$1 secs=$2 bin=$FDIR/bin/fuzz_$1 seeds=$SRC/tests/fuzz/corpus/$1
  local log=$FDIR/logs/$name.log rc=0
  [ -x "$bin" ] || { echo "fuzz: $bin is not built (is it listed in tests/fuzz/CMakeLists.txt?)"; return 1; }
  [ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds"; return 1; }
  mkdir -p "$FDIR/corpus/$name" "$FDIR/crashes" "$FDIR/logs"
  local dict=()
  [ -f "$SRC/tests/fuzz/$name.dict" ] && dict=(-dict="$SRC/tests/fuzz/$name.dict")
  # halt_on_error: the first report fails the run. Leak checking needs ptrace, which root has
  # here; FUZZ_ASAN_OPTIONS overrides all of it on hosts where it does not work.
  ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=1} \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "${dict[@]}" -artifact_prefix="$FDIR/crashes/$name-" \
      "$FDIR/corpus/$name" "$seeds" >"$log" 2>&1 || rc=$?
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz $name: FAILED after ${runs:-?} runs (exit $rc); the input is in $FDIR/crashes/."
    echo "Once fixed, add it to tests/fuzz/corpus/$name/ so every smoke run replays it."
    return 1
  fi
  echo "fuzz $name: ${runs:-?} runs in ${secs}s, no crash"
}

case $mode in
  build)
    build
    ;;
  smoke)
    name=${3:?missing target name}
    command -v "$CXX" >/dev/null || { echo "fuzz: $CXX not found"; exit 77; }
    fuzz "$name" "${4:-${FUZZ_SMOKE_SECONDS:-10}}"
    ;;
  run)
    secs=${3:?missing seconds per target}
    shift 3
    build
    names=("$@")
    [ ${#names[@]} -gt 0 ] || mapfile -t names < <(targets)
    failed=0
    for n in "${names[@]}"; do fuzz "$n" "$secs" || failed=1; done
    exit $failed
    ;;
  *)
    echo "usage: fuzz.sh build|smoke|run BUILD ..." >&2
    exit 2
    ;;
esac
