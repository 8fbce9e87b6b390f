# The verdict of a suite whose cases ran inside the test host (tools/test-host.sh), given
# tools/test-host.sh's exit status: the cases' own status passes through (0 all passed,
# 1 something failed); the test host's own failures (124 timed out, 125 it did not run)
# become a TAP line and status 1. Ends the script.
test_host_verdict() {
  case $1 in
    0 | 1) exit "$1" ;;
    124) echo "not ok - the test host finished in time" ;;
    *) echo "not ok - the test host ran (tools/test-host.sh exit $1)" ;;
  esac
  exit 1
}
