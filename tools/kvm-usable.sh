#!/usr/bin/env bash
# Exit 0 when this machine's /dev/kvm can boot a Linux guest, so KVM tests run here;
# exit 1 when they must run inside the test host (tools/test-host.sh).
#
# The check: /dev/kvm exists and we may open it, and its provider is not kvm_pvm (the
# paravirtual nested hypervisor of Firecracker-based machines, listed in /sys/module): that
# one runs tiny real-mode guests but hangs an unmodified Linux kernel.
# BULKHEAD_KVM=direct or BULKHEAD_KVM=test-host overrides the check.
case ${BULKHEAD_KVM:-} in
  direct) exit 0 ;;
  test-host) exit 1 ;;
esac
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ ! -e /sys/module/kvm_pvm ]
