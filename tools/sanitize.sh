#!/usr/bin/env bash
# The ASan+UBSan build: every binary and test built by g++ with -DBULKHEAD_SANITIZE=ON in
# BUILD/asan, and the tests that can run under it.
#
#   tools/sanitize.sh build BUILD              configure and build everything
#   tools/sanitize.sh unit BUILD               every unit test of the sanitized build
#   tools/sanitize.sh integration BUILD NAME   tests/integration/NAME.sh against the
#                                              sanitized bulkhead
#
# Reports go to files (log_path), so one that a test swallows with the runtime's stderr
# still fails the run: after each step any report found is printed and the step fails.
# Exit status: 0 clean, 1 a failure or a report, 77 a test skipped itself.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:?usage: sanitize.sh build|unit|integration BUILD ...}
mkdir -p "${2:?missing BUILD directory}"
BUILD=$(cd "$2" && pwd)
ADIR=$BUILD/asan
REPORTS=$ADIR/reports

# halt_on_error: the first report ends the process. detect_leaks: LeakSanitizer stops the
# process with ptrace at exit, which root may do here. abort_on_error=0 with exitcode 86,
# so a report is an ordinary failure with a recognisable status, never a core dump.
export ASAN_OPTIONS=${SANITIZE_ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$REPORTS/asan}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$REPORTS/ubsan

# reports STEP: fails when any sanitizer report was written since the step began.
reports() {
  local f found=0
  for f in "$REPORTS"/*; do
    [ -f "$f" ] || continue
    [ -s "$f" ] || { rm -f "$f"; continue; }
    echo "sanitize $1: report in $f:"
    sed 's/^/  /' "$f"
    found=1
  done
  [ $found -eq 0 ]
}

fresh_reports() {
  mkdir -p "$REPORTS"
  rm -f "$REPORTS"/*
}

case $mode in
  build)
    if [ ! -f "$ADIR/build.ninja" ]; then
      # -O1 -g1: the usual sanitizer trade-off, readable stacks at half -O2's compile time.
      cmake -S "$SRC" -B "$ADIR" -G Ninja -DBULKHEAD_SANITIZE=ON -DCMAKE_BUILD_TYPE=None \
        -DCMAKE_C_FLAGS="-O1 -g1" -DCMAKE_CXX_FLAGS="-O1 -g1" >"$BUILD/asan-configure.log" 2>&1 || {
        cat "$BUILD/asan-configure.log"
        exit 1
      }
    fi
    ninja -C "$ADIR"
    ;;
  unit)
    fresh_reports
    rc=0
    (cd "$ADIR" && ctest --output-on-failure -L unit) || rc=1
    reports unit || rc=1
    exit $rc
    ;;
  integration)
    name=${3:?missing test name}
    # No leak check here: exec (and create with a PID namespace path) joins the container's
    # PID namespace before forking, so at exit LeakSanitizer's stop-the-world tracer starts
    # in a namespace where it cannot see its parent; it quits and the runtime waits for it
    # forever. The unit tests keep leak checking.
    [ -n "${SANITIZE_ASAN_OPTIONS:-}" ] || ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}
    fresh_reports
    rc=0
    # The real directory: the harness copies the rootfs into each bundle with cp -a, which
    # would copy a symlink as a symlink and let a test change the shared tree.
    BULKHEAD=$ADIR/bin/bulkhead BULKHEAD_BUILD=$ADIR BULKHEAD_SRC=$SRC \
      BULKHEAD_ROOTFS=$(readlink -f "$BUILD/rootfs") bash "$SRC/tests/integration/$name.sh" || rc=$?
    reports "integration $name" || rc=1
    exit $rc
    ;;
  *)
    echo "usage: sanitize.sh build|unit|integration BUILD ..." >&2
    exit 2
    ;;
esac
