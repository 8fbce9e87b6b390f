#!/usr/bin/env bash
# bulkhead-vmm against a real Linux guest: builds the guest kernel
# (tools/guest-kernel.sh) and the test guest's initramfs
# (tests/vmm/make-guest-initrd.sh), then runs tests/vmm/in-host.sh where KVM
# boots Linux: directly when tools/kvm-usable.sh says this machine's KVM does,
# otherwise inside the test host (tools/test-host.sh). Its TAP lines are ours.
#
# Environment: BULKHEAD_BUILD (set by ctest) holds bin/bulkhead-vmm and
# tests/vmm/{bh-vmm-hostile,bh-vmm-console-peer,bh-vmm-agent-peer}; VMM_CASES limits the cases
# (see in-host.sh); BULKHEAD_KVM=direct|test-host overrides the KVM check.
# Exit status: 0 all passed, 1 something failed, 77 cannot run here.
set -uo pipefail

src=${BULKHEAD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${BULKHEAD_BUILD:-$src/build}
vmm=$build/bin/bulkhead-vmm
hostile=$build/tests/vmm/bh-vmm-hostile
peer=$build/tests/vmm/bh-vmm-console-peer
agent_peer=$build/tests/vmm/bh-vmm-agent-peer

skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (the initramfs holds /dev/console)"
for f in "$vmm" "$hostile" "$peer" "$agent_peer"; do
  [ -x "$f" ] || skip "$f not built"
done
[ -f /usr/src/linux-source-6.1.tar.xz ] || skip "linux-source-6.1 missing (run tools/deps.sh)"

tmp=$(mktemp -d /tmp/bh-it-vmm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "# building the guest kernel (cached after the first build)"
kdir=$(bash "$src/tools/guest-kernel.sh") || { echo "not ok - guest kernel builds"; exit 1; }
echo "ok - guest kernel builds ($kdir)"
if bash "$src/tests/vmm/make-guest-initrd.sh" "$tmp/initrd.cpio.gz" "$hostile" "$agent_peer"; then
  echo "ok - test guest initramfs builds"
else
  echo "not ok - test guest initramfs builds"
  exit 1
fi

read -ra cases <<<"${VMM_CASES:-}"
if bash "$src/tools/kvm-usable.sh"; then
  echo "# KVM boots Linux here: running the cases directly"
  sh "$src/tests/vmm/in-host.sh" "$vmm" "$kdir/bzImage" "$kdir/vmlinux" "$tmp/initrd.cpio.gz" "$peer" "$agent_peer" "${cases[@]}"
  exit $?
fi

echo "# running the cases inside the test host (tools/test-host.sh)"
bash "$src/tools/test-host.sh" --mem 1536 --smp 2 --timeout 1200 --stall 300 \
  --file "$vmm:/bh/bulkhead-vmm" --file "$kdir/bzImage:/bh/bzImage" --file "$kdir/vmlinux:/bh/vmlinux" \
  --file "$tmp/initrd.cpio.gz:/bh/initrd.cpio.gz" --file "$peer:/bh/console-peer" \
  --file "$agent_peer:/bh/agent-peer" \
  --file "$src/tests/vmm/in-host.sh:/bh/tests/vmm/in-host.sh" --file "$src/tests/lib/tap.sh:/bh/tests/lib/tap.sh" \
  -- sh /bh/tests/vmm/in-host.sh /bh/bulkhead-vmm /bh/bzImage /bh/vmlinux /bh/initrd.cpio.gz /bh/console-peer /bh/agent-peer "${cases[@]}"
rc=$?
. "$src/tests/integration/lib/test_host_verdict.sh"
test_host_verdict "$rc"
