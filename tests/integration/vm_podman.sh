#!/usr/bin/env bash
# podman drives the vm tier with --runtime bulkhead-vm: tests/vmtier/podman-in-host.sh runs
# the cases in one boot of the test host (tools/test-host.sh), or directly where this
# machine's KVM boots Linux. Its TAP lines are ours.
#
# Environment: BULKHEAD_BUILD (set by ctest) holds bin/{bulkhead,bulkhead-vmm} and
# lib/bulkhead/initrd.img; BULKHEAD_ROOTFS the busybox rootfs.
# Exit status: 0 all passed, 1 something failed, 77 cannot run here.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/vm_suite.sh"
tools=()
for t in podman conmon script; do
  p=$(command -v "$t") || { echo "skipped: $t missing (run tools/deps.sh)"; exit 77; }
  tools+=("$p")
done
for d in /usr/share/containers /etc/containers; do
  [ -d "$d" ] || { echo "skipped: $d missing (run tools/deps.sh: podman)"; exit 77; }
done
vm_suite_setup vm-podman

if bash "$src/tools/kvm-usable.sh"; then
  echo "# KVM boots Linux here: running the cases directly"
  # The runtime's default layout: the monitor beside it, kernel and initrd in ../lib/bulkhead.
  mkdir -p "$tmp/bin" "$tmp/lib/bulkhead"
  cp "$runtime" "$vmm" "$tmp/bin/"
  ln -s bulkhead "$tmp/bin/bulkhead-vm"
  cp "$kdir/vmlinux" "$initrd" "$tmp/lib/bulkhead/"
  sh "$src/tests/vmtier/podman-in-host.sh" "$tmp/bin/bulkhead-vm" "$(readlink -f "$rootfs")"
  exit $?
fi

echo "# running the cases inside the test host (tools/test-host.sh)"
files=()
for p in "${tools[@]}"; do files+=(--file "$p:/usr/bin/$(basename "$p")"); done
# podman's configuration as Debian installs it. The symlink that names the vm tier, and the
# kernel and initrd where the runtime looks by default, are made inside: the test host
# copies regular files.
bash "$src/tools/test-host.sh" --mem 2048 --smp 2 --timeout 1200 --stall 300 \
  "${VM_FILES[@]}" "${files[@]}" \
  --dir /usr/share/containers:/usr/share/containers --dir /etc/containers:/etc/containers \
  --file "$src/tests/vmtier/podman-in-host.sh:/bh/tests/vmtier/podman-in-host.sh" \
  -- sh -c 'ln -s bulkhead /bh/bin/bulkhead-vm && mkdir -p /bh/lib/bulkhead &&
            ln -s /bh/vmlinux /bh/initrd.img /bh/lib/bulkhead/ &&
            exec sh /bh/tests/vmtier/podman-in-host.sh /bh/bin/bulkhead-vm /bh/rootfs'
rc=$?
. "$src/tests/integration/lib/test_host_verdict.sh"
test_host_verdict "$rc"
