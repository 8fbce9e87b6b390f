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

files=()
for p in "${tools[@]}"; do files+=(--file "$p:/usr/bin/$(basename "$p")"); done
# podman's configuration as Debian installs it.
vm_suite_run_engine tests/vmtier/podman-in-host.sh "${files[@]}" \
  --dir /usr/share/containers:/usr/share/containers --dir /etc/containers:/etc/containers
