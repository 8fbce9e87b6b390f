# TAP-style reporting for the POSIX sh scripts that run where /dev/kvm boots Linux (inside the
# test host, busybox only, or directly on a host with real KVM): tests/{vmm,vminit,vmtier}/
# in-host.sh source it from ../lib/tap.sh beside them, and the test host gets the same layout.
#
# ok NAME; not_ok NAME [DETAIL]; check NAME DETAIL COMMAND...; tally FILE (counts the ok / not ok
# lines another program wrote); tap_summary prints "N passed, M failed" and fails when M > 0;
# wait_for SECONDS COMMAND... polls COMMAND every 0.1 s until it succeeds or the time is up.
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
  fail=$((fail + 1))
  echo "not ok - $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
  return 0
}
# check NAME DETAIL COMMAND...: ok when COMMAND succeeds, else not ok with DETAIL.
check() {
  _name=$1 _detail=$2
  shift 2
  if "$@"; then ok "$_name"; else not_ok "$_name" "$_detail"; fi
}
tally() {
  pass=$((pass + $(grep -c '^ok - ' "$1")))
  fail=$((fail + $(grep -c '^not ok - ' "$1")))
}
tap_summary() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
wait_for() {
  _n=$(($1 * 10))
  shift
  while [ $_n -gt 0 ]; do
    "$@" && return 0
    sleep 0.1
    _n=$((_n - 1))
  done
  return 1
}
