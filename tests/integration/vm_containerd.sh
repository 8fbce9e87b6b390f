#!/usr/bin/env bash
# containerd drives the vm tier through its runc shim with --runc-binary bulkhead-vm, as a
# Kubernetes RuntimeClass handler would: tests/vmtier/containerd-in-host.sh runs the cases in
# one boot of the test host (tools/test-host.sh), or directly where this machine's KVM boots
# Linux. Its TAP lines are ours.
#
# Environment: BULKHEAD_BUILD (set by ctest) holds bin/{bulkhead,bulkhead-vmm} and
# lib/bulkhead/initrd.img; BULKHEAD_ROOTFS the busybox rootfs.
# Exit status: 0 all passed, 1 something failed, 77 cannot run here.
set -uo pipefail

src=${BULKHEAD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${BULKHEAD_BUILD:-$src/build}
rootfs=${BULKHEAD_ROOTFS:-$build/rootfs}
runtime=$build/bin/bulkhead
vmm=$build/bin/bulkhead-vmm
initrd=$build/lib/bulkhead/initrd.img

skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
for f in "$runtime" "$vmm"; do [ -x "$f" ] || skip "$f not built"; done
[ -f "$initrd" ] || skip "$initrd not built (ninja vm-initrd)"
[ -d "$rootfs/bin" ] || skip "no rootfs at $rootfs (make rootfs)"
[ -f /usr/src/linux-source-6.1.tar.xz ] || skip "linux-source-6.1 missing (run tools/deps.sh)"
tools=()
for t in containerd ctr containerd-shim-runc-v2 script mkfs.erofs; do
  p=$(command -v "$t") || skip "$t missing (run tools/deps.sh)"
  tools+=("$p")
done

fail() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; exit 1; }
kdir=$(bash "$src/tools/guest-kernel.sh") || fail "guest kernel builds"
echo "ok - guest kernel ($kdir)"

if bash "$src/tools/kvm-usable.sh"; then
  echo "# KVM boots Linux here: running the cases directly"
  tmp=$(mktemp -d /tmp/bh-it-vm-ctd.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  # The runtime's default layout: the monitor beside it, kernel and initrd in ../lib/bulkhead.
  mkdir -p "$tmp/bin" "$tmp/lib/bulkhead"
  cp "$runtime" "$vmm" "$tmp/bin/"
  ln -s bulkhead "$tmp/bin/bulkhead-vm"
  cp "$kdir/vmlinux" "$initrd" "$tmp/lib/bulkhead/"
  sh "$src/tests/vmtier/containerd-in-host.sh" "$tmp/bin/bulkhead-vm" "$(readlink -f "$rootfs")"
  exit $?
fi

echo "# running the cases inside the test host (tools/test-host.sh)"
files=()
for p in "${tools[@]}"; do files+=(--file "$p:/usr/bin/$(basename "$p")"); done
# The symlink that names the vm tier is made inside: the test host copies regular files.
bash "$src/tools/test-host.sh" --mem 2048 --smp 2 --timeout 1200 --stall 300 \
  --file "$runtime:/bh/bin/bulkhead" --file "$vmm:/bh/bin/bulkhead-vmm" \
  --file "$kdir/vmlinux:/bh/lib/bulkhead/vmlinux" --file "$initrd:/bh/lib/bulkhead/initrd.img" \
  "${files[@]}" --dir "$rootfs:/bh/rootfs" \
  --file "$src/tests/lib/tap.sh:/bh/tests/lib/tap.sh" \
  --file "$src/tests/lib/containerd_config.sh:/bh/tests/lib/containerd_config.sh" \
  --file "$src/tests/vmtier/containerd-in-host.sh:/bh/tests/vmtier/containerd-in-host.sh" \
  -- sh -c 'ln -s bulkhead /bh/bin/bulkhead-vm &&
            exec sh /bh/tests/vmtier/containerd-in-host.sh /bh/bin/bulkhead-vm /bh/rootfs'
rc=$?
. "$src/tests/integration/lib/test_host_verdict.sh"
test_host_verdict "$rc"
