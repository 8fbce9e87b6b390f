#!/usr/bin/env bash
# A stand-in for bulkhead-vmm built on QEMU's microvm machine in software
# emulation (TCG): it takes the monitor's flags and maps the outcome to the
# monitor's exit codes, so tests/vmm/in-host.sh can run the test guest here,
# without KVM, and the guest side can be checked against a second device model.
#
#   tests/vmm/qemu-vmm.sh --kernel K [--initrd I] [--cmdline C] [--vcpus N]
#       [--memory MiB] [--disk id=ID,path=PATH[,ro]]... [--console socket:PATH] [--rng]
#
# Exit status: 0 the guest rebooted, 3 it panicked (QEMU resets in both cases;
# the serial log tells them apart), 1 bad flags or QEMU refused to start,
# 143 SIGTERM. Not covered: --serial, --console fd:N, --no-jail, --config and
# --seccomp-selftest (the monitor's own features).
set -uo pipefail

die() { echo "qemu-vmm: $*" >&2; exit 1; }
kernel="" initrd="" cmdline="console=ttyS0 quiet" vcpus=1 memory=128 rng=0 console=""
disks=()
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) kernel=${2:?}; shift 2 ;;
    --initrd) initrd=${2:?}; shift 2 ;;
    --cmdline) cmdline=${2:?}; shift 2 ;;
    --vcpus) vcpus=${2:?}; shift 2 ;;
    --memory) memory=${2:?}; shift 2 ;;
    --disk) disks+=("${2:?}"); shift 2 ;;
    --console) console=${2:?}; shift 2 ;;
    --rng) rng=1; shift ;;
    *) die "flag not supported here: $1" ;;
  esac
done
[ -f "$kernel" ] || die "kernel $kernel: no such file"

# The transport must be virtio-mmio version 2, as bulkhead-vmm's. acpi=off:
# the guest kernel has no ACPI, and only then does QEMU announce the devices on
# the command line (virtio_mmio.device=). No i8042 on microvm: reboot=t resets
# by triple fault, which -no-reboot turns into an exit.
args=(-M microvm,x-option-roms=off,rtc=off,acpi=off -accel tcg -cpu max -m "$memory" -smp "$vcpus"
  -nodefaults -no-user-config -display none -serial stdio -no-reboot
  -global virtio-mmio.force-legacy=false
  -kernel "$kernel" -append "$cmdline reboot=t panic=-1")
[ -n "$initrd" ] && args+=(-initrd "$initrd")
# microvm lists the virtio-mmio transports on the kernel command line in the
# order the devices were given, as bulkhead-vmm does: the first disk is vda.
devs=()
for d in "${disks[@]}"; do
  id="" path="" ro=off
  IFS=, read -ra parts <<<"$d"
  for p in "${parts[@]}"; do
    case $p in
      id=*) id=${p#id=} ;;
      path=*) path=${p#path=} ;;
      ro) ro=on ;;
      *) die "bad --disk part: $p" ;;
    esac
  done
  args+=(-drive "id=$id,file=$path,format=raw,if=none,readonly=$ro")
  devs+=("-device virtio-blk-device,drive=$id,serial=$id")
done
case $console in
  "") ;;
  socket:*)
    args+=(-chardev "socket,id=vcon,path=${console#socket:}")
    devs+=("-device virtio-serial-device -device virtconsole,chardev=vcon")
    ;;
  *) die "console not supported here: $console" ;;
esac
[ "$rng" = 1 ] && devs+=("-device virtio-rng-device")
for d in "${devs[@]}"; do
  # shellcheck disable=SC2206
  args+=($d)
done

log=$(mktemp "${TMPDIR:-/tmp}/qemu-vmm.XXXXXX")
trap 'rm -f "$log"' EXIT
qemu-system-x86_64 "${args[@]}" </dev/null > >(tee "$log") &
qemu=$!
trap 'kill -TERM $qemu 2>/dev/null; wait $qemu; exit 143' TERM
wait $qemu
rc=$?
# Let tee finish writing the log.
sleep 0.2
[ "$rc" -eq 0 ] || exit 1
grep -aq "Kernel panic" "$log" && exit 3
exit 0
