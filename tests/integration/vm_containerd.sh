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

source "$(dirname "${BASH_SOURCE[0]}")/lib/vm_suite.sh"
tools=()
for t in containerd ctr containerd-shim-runc-v2 script; do
  p=$(command -v "$t") || { echo "skipped: $t missing (run tools/deps.sh)"; exit 77; }
  tools+=("$p")
done
vm_suite_setup vm-containerd

files=()
for p in "${tools[@]}"; do files+=(--file "$p:/usr/bin/$(basename "$p")"); done
vm_suite_run_engine tests/vmtier/containerd-in-host.sh "${files[@]}" \
  --file "$src/tests/lib/containerd_config.sh:/bh/tests/lib/containerd_config.sh"
