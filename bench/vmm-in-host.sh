#!/bin/sh
# The boots of the micro-VM monitor benchmark (bench/vmm.sh). Runs where /dev/kvm boots
# Linux: inside the test host (busybox only) or directly on a host with real KVM.
#
#   sh vmm-in-host.sh TIMER VMM QEMU KERNEL INITRD BIOS BOOTS
#
# Boots the bench guest under bulkhead-vmm and under QEMU's microvm machine in turn
# (bulkhead-vmm, QEMU, bulkhead-vmm, ...), one untimed warm-up each first, then BOOTS timed
# boots each, through TIMER (bench/boot-timer.c). Both get the same kernel, initrd, 1 vCPU
# and 128 MiB, and the same command line apart from what each monitor needs to end the VM.
# Prints "BENCH MONITOR N <timer line>" per boot (N = 0 is the warm-up) and, for a boot
# that failed, the end of its console output as "LOG MONITOR N: <line>", each line after
# the milliseconds since the monitor started.
set -u
[ $# -eq 7 ] || { echo "usage: vmm-in-host.sh TIMER VMM QEMU KERNEL INITRD BIOS BOOTS" >&2; exit 2; }
timer=$1 vmm=$2 qemu=$3 kernel=$4 initrd=$5 bios=$6 boots=$7
mem=128
marker=BH-BOOT-MARKER
# The guest sleeps 3 s after the marker (bench guest /init); the sample comes 1 s in.
sample_ms=1000
limit=${BH_BOOT_LIMIT:-300}
cmdline="console=ttyS0 quiet"
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-vmm-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# bulkhead-vmm appends "reboot=k,panic_warm panic=-1 8250.nr_uarts=1" itself: the guest's
# `reboot -f` resets through the i8042 and the monitor exits 0. microvm has no i8042, so its
# guest resets by triple fault, which -no-reboot turns into QEMU's exit.
run_bvmm() {
  "$timer" -T -m "$marker" -g "$mem" -s "$sample_ms" -t "$limit" -c -l "$work/bvmm-$1.log" -- \
    "$vmm" --kernel "$kernel" --initrd "$initrd" --vcpus 1 --memory "$mem" --cmdline "$cmdline"
}
run_qemu() {
  "$timer" -T -m "$marker" -g "$mem" -s "$sample_ms" -t "$limit" -l "$work/qemu-$1.log" -- \
    "$qemu" -M microvm,x-option-roms=off,rtc=off,acpi=off -accel kvm -cpu host -smp 1 -m "$mem" \
    -nodefaults -no-user-config -nographic -no-reboot -serial stdio -bios "$bios" \
    -kernel "$kernel" -initrd "$initrd" -append "$cmdline reboot=t panic=-1 8250.nr_uarts=1"
}

# A test host that froze is booted again (tools/test-host.sh --stall): the report reads
# only what follows the last of these lines.
echo BENCH-START
i=0
while [ "$i" -le "$boots" ]; do
  for m in bvmm qemu; do
    line=$("run_$m" "$i")
    rc=$?
    echo "BENCH $m $i $line"
    if [ "$rc" -ne 0 ]; then
      tr -d '\r' <"$work/$m-$i.log" | tail -n 25 | sed "s/^/LOG $m $i: /"
    fi
  done
  i=$((i + 1))
done
