#!/usr/bin/env bash
# bulkhead-init, PID 1 of the VM tier's guest, in a real guest under bulkhead-vmm: builds the
# busybox rootfs into an erofs image (mkfs.erofs), the initrd whose /init is bulkhead-init
# (tools/vm-initrd.sh, as the vm tier ships it),
# and a config.json from `bulkhead spec`; then tests/vminit/in-host.sh runs one guest per
# scenario with bh-vminit-driver playing the host on the virtio-console socket, directly when
# this machine's KVM boots Linux (tools/kvm-usable.sh), otherwise inside one test host
# (tools/test-host.sh). Its TAP lines are ours.
#
# Environment: BULKHEAD_BUILD (set by ctest) holds bin/{bulkhead,bulkhead-vmm,bulkhead-init}
# and tests/vminit/bh-vminit-driver; BULKHEAD_ROOTFS the busybox rootfs; BH_VMINIT_SERIAL=1
# shows each guest's serial console.
# Exit status: 0 all passed, 1 something failed, 77 cannot run here.
set -uo pipefail

src=${BULKHEAD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${BULKHEAD_BUILD:-$src/build}
rootfs=${BULKHEAD_ROOTFS:-$build/rootfs}
vmm=$build/bin/bulkhead-vmm
init=$build/bin/bulkhead-init
runtime=$build/bin/bulkhead
driver=$build/tests/vminit/bh-vminit-driver

skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (the test host and its KVM)"
for f in "$vmm" "$init" "$runtime" "$driver"; do
  [ -x "$f" ] || skip "$f not built"
done
[ -d "$rootfs/bin" ] || skip "no rootfs at $rootfs (make rootfs)"

tmp=$(mktemp -d /tmp/bh-it-vm-init.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; exit 1; }

kdir=$(bash "$src/tools/guest-kernel.sh") || fail "guest kernel builds"
echo "ok - guest kernel ($kdir)"
command -v mkfs.erofs >/dev/null || fail "mkfs.erofs is installed (tools/deps.sh: erofs-utils)"
out=$(mkfs.erofs --quiet "$tmp/rootfs.erofs" "$(readlink -f "$rootfs")" 2>&1) ||
  fail "the rootfs image builds" "$out"
echo "ok - the busybox rootfs as an erofs image ($(du -k "$tmp/rootfs.erofs" | cut -f1) KiB)"
out=$(bash "$src/tools/vm-initrd.sh" "$tmp/initrd.img" "$init" 2>&1) ||
  fail "the initrd builds" "$out"
echo "ok - the initrd holds bulkhead-init ($(du -k "$tmp/initrd.img" | cut -f1) KiB)"
out=$(cd "$tmp" && "$runtime" spec 2>&1) || fail "bulkhead spec writes a config" "$out"

if bash "$src/tools/kvm-usable.sh"; then
  echo "# KVM boots Linux here: running the scenarios directly"
  sh "$src/tests/vminit/in-host.sh" "$vmm" "$kdir/vmlinux" "$tmp/initrd.img" \
    "$tmp/rootfs.erofs" "$driver" "$tmp/config.json"
  exit $?
fi

echo "# running the scenarios inside the test host (tools/test-host.sh)"
bash "$src/tools/test-host.sh" --mem 1536 --smp 2 --timeout 900 --stall 300 \
  --env "BH_VMINIT_SERIAL=${BH_VMINIT_SERIAL:-}" \
  --file "$vmm:/bh/bulkhead-vmm" --file "$kdir/vmlinux:/bh/vmlinux" \
  --file "$tmp/initrd.img:/bh/initrd.img" --file "$tmp/rootfs.erofs:/bh/rootfs.erofs" \
  --file "$driver:/bh/driver" --file "$tmp/config.json:/bh/config.json" \
  --file "$src/tests/vminit/in-host.sh:/bh/tests/vminit/in-host.sh" --file "$src/tests/lib/tap.sh:/bh/tests/lib/tap.sh" \
  -- sh /bh/tests/vminit/in-host.sh /bh/bulkhead-vmm /bh/vmlinux /bh/initrd.img /bh/rootfs.erofs \
  /bh/driver /bh/config.json
rc=$?
. "$src/tests/integration/lib/test_host_verdict.sh"
test_host_verdict "$rc"
