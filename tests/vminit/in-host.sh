#!/bin/sh
# The guest init's integration test proper: one guest per scenario under bulkhead-vmm, with
# bulkhead-init as /init, the busybox image as the read-only disk "rootfs", and the
# virtio-console on a socket where bh-vminit-driver plays the host. Runs where /dev/kvm boots
# Linux: inside the test host (busybox only) or directly on a host with real KVM.
#
#   sh in-host.sh VMM VMLINUX INITRD IMAGE DRIVER CONFIG_JSON
#
# BH_VMINIT_SERIAL=1 shows each guest's serial console (the kernel's and init's own messages).
# Output: the driver's "ok - NAME" / "not ok - NAME" lines and the monitor's exit checks, then
# "N passed, M failed"; exit status 1 when anything failed.
set -u
[ $# -eq 6 ] || { echo "usage: in-host.sh VMM VMLINUX INITRD IMAGE DRIVER CONFIG_JSON" >&2; exit 2; }
vmm=$1 kernel=$2 initrd=$3 image=$4 driver=$5 config=$6
limit=${BH_VMINIT_LIMIT:-180}
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-vminit.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/../lib/tap.sh"

# run NAME [MONITOR FLAGS...]: the driver listens, the monitor boots the guest; the driver's
# lines are passed on and the monitor must end with 5 (the guest powered off).
run() {
  name=$1
  shift
  sock=$work/$name.sock
  "$driver" "$sock" "$config" "$name" >"$work/$name.out" 2>"$work/$name.drv" &
  drv=$!
  i=0
  while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  start=$(date +%s)
  timeout -s KILL "$limit" "$vmm" --kernel "$kernel" --initrd "$initrd" --memory 256 \
    --serial "file:$work/$name.serial" --console "socket:$sock" "$@" \
    </dev/null >"$work/$name.vmm" 2>&1
  rc=$?
  wait "$drv"
  drc=$?
  echo "# $name: $(($(date +%s) - start)) s"
  cat "$work/$name.out"
  [ -n "${BH_VMINIT_SERIAL:-}" ] && tr -d '\r' <"$work/$name.serial" | sed 's/^/# serial: /'
  tally "$work/$name.out"
  if [ "$rc" = 5 ]; then
    ok "$name: the monitor ends with 5 (guest power-off)"
  else
    not_ok "$name: the monitor ends with 5 (guest power-off)" "exit status $rc"
  fi
  if [ "$drc" = 2 ] || [ "$rc" != 5 ] || grep -q '^not ok' "$work/$name.out"; then
    not_ok "$name: diagnostics" "$(printf 'driver exit %s: %s\n--- monitor ---\n%s\n--- serial (last 30 lines) ---\n%s' \
      "$drc" "$(cat "$work/$name.drv")" "$(tail -n 20 "$work/$name.vmm")" "$(tr -d '\r' <"$work/$name.serial" | tail -n 30)")"
  fi
}

disk="--disk id=rootfs,path=$image,ro"
run basic $disk
run session $disk
run badjson $disk
run nodisk
tap_summary
