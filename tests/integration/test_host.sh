#!/usr/bin/env bash
# The test host (tools/test-host.sh) that KVM tests run in: inside it /dev/kvm runs guest
# code, the command's output and exit status come back, files and their shared libraries
# are copied in, a hung test host ends at its timeout, and --direct runs the command here
# where KVM is usable.
# Runs everywhere: the test host needs only QEMU's software emulation.
set -uo pipefail
src=${BULKHEAD_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
th=$src/tools/test-host.sh
pass=0 failed=0
tmp=$(mktemp -d /tmp/bh-it-test_host.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; printf '%s\n' "$2" | sed 's/^/#   /'; }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: [$2] actual: [$3]"; fi; }
check_match() {
  if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "no /$2/ in:"$'\n'"$3"; fi
}

# One probe built static, one dynamic: the dynamic one runs only if its libraries came along.
cc -O2 -Wall -Wextra -Werror -static -o "$tmp/kvm_probe" "$src/tests/integration/lib/kvm_probe.c" ||
  { echo "not ok - building kvm_probe"; exit 1; }
cc -O2 -Wall -Wextra -Werror -o "$tmp/kvm_probe_dyn" "$src/tests/integration/lib/kvm_probe.c" ||
  { echo "not ok - building kvm_probe_dyn"; exit 1; }

start=$SECONDS
out=$(bash "$th" --file "$tmp/kvm_probe" --file "$tmp/kvm_probe_dyn" -- sh -c "
  ls -l /dev/kvm
  $tmp/kvm_probe && echo static-probe-ok
  $tmp/kvm_probe_dyn && echo dynamic-probe-ok" 2>&1)
rc=$?
echo "# probe run: $((SECONDS - start)) s"
check_eq "probe run exits 0" 0 "$rc"
check_match "/dev/kvm is a character device" '^crw.* 10, *232 .*/dev/kvm' "$out"
check_match "KVM API version 12" 'api version 12' "$out"
check_match "a KVM guest ran: port write seen" 'guest wrote 42 to port 0x10' "$out"
check_match "static probe passed" 'static-probe-ok' "$out"
check_match "dynamic probe passed (libraries copied)" 'dynamic-probe-ok' "$out"

out=$(bash "$th" --env "GREETING=it's a \"test\"" -- sh -c 'echo "out:$GREETING"; echo err >&2; exit 3' 2>&1)
rc=$?
check_eq "command's exit status comes back" 3 "$rc"
check_eq "stdout and stderr come back, env quoted intact" "out:it's a \"test\""$'\n'"err" "$out"

out=$(bash "$th" -- false 2>&1)
check_eq "exit status 1 comes back" 1 "$?"

start=$SECONDS
out=$(bash "$th" --timeout 3 -- sleep 600 2>&1)
rc=$?
check_eq "a test host past --timeout exits 124" 124 "$rc"
check_match "and says so" 'timed out after 3s' "$out"
[ $((SECONDS - start)) -lt 30 ] && ok "timeout is prompt" || not_ok "timeout is prompt" "took $((SECONDS - start)) s"

# --stall: a command silent that long is taken for a frozen emulator and run once more.
out=$(bash "$th" --stall 10 -- sh -c 'echo once; sleep 600' 2>&1)
rc=$?
check_eq "a command silent past --stall, twice, exits 125" 125 "$rc"
check_match "it ran again in a fresh boot, saying so" 'running it again in a fresh boot' "$out"
check_eq "it ran twice" 2 "$(grep -c '^once$' <<<"$out")"
out=$(bash "$th" --stall 60 -- sh -c 'echo before; echo c >/proc/sysrq-trigger; sleep 5' 2>&1)
rc=$?
check_eq "a test host that went down under a --stall command, twice, exits 125" 125 "$rc"
check_match "it ran again in a fresh boot, saying why" 'went down while the command ran' "$out"
check_eq "the crashed command ran twice" 2 "$(grep -c '^before$' <<<"$out")"
out=$(bash "$th" --stall 10 -- sh -c 'for i in 1 2 3 4; do echo $i; sleep 4; done' 2>&1)
rc=$?
check_eq "output every few seconds is no stall" "0 1 2 3 4" "$rc $(echo $out)"

out=$(bash "$th" --file /nonexistent/file -- true 2>&1)
check_eq "a missing --file fails with 125" 125 "$?"

# --direct on a machine whose KVM boots Linux: the command runs here (forced by the override).
out=$(BULKHEAD_KVM=direct bash "$th" --direct --env X=y -- sh -c 'echo "$X $(hostname)"; exit 4' 2>&1)
check_eq "--direct runs here when KVM is usable, status comes back" 4 "$?"
check_eq "--direct passes --env" "y $(hostname)" "$out"

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
