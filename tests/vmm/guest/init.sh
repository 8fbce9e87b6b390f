#!/bin/sh
# /init of the VMM test guest (busybox sh, PID 1). Runs the scenario named by
# bhtest=NAME on the kernel command line, prints its results on the serial
# console as "BHTEST key=value" lines, and reboots (the monitor then exits 0)
# unless the scenario ends the guest another way. tests/vmm/README.md lists the
# scenarios and what the host side expects of each.
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

# arg NAME: the value of NAME=... on the kernel command line.
arg() {
  for w in $(cat /proc/cmdline); do
    case $w in "$1"=*) echo "${w#*=}"; return ;; esac
  done
}
say() { echo "BHTEST $1=$2"; }
# Console output still sits in the UART's buffer when write() returns; stty
# applies its settings with TCSADRAIN, which waits until all of it is out.
drain() { stty -F /dev/console onlcr 2>/dev/null; }
finish() { drain; sync; reboot -f; }

# kernel_log: the kernel's last words, which a quiet console does not show.
kernel_log() { dmesg | tail -n 5 | sed 's/^/bhtest: dmesg: /'; }

# window DEV: "ADDR:SIZE" (hex) of the virtio-mmio window behind virtio device DEV.
window() {
  plat=$(basename "$(dirname "$(readlink -f "/sys/bus/virtio/devices/$1")")")
  line=$(grep " : $plat\$" /proc/iomem | head -n 1)
  lo=$(echo "${line%%-*}" | tr -d ' ')
  hi=${line#*-}
  hi=${hi%% *}
  printf '%s:%x\n' "$lo" $((0x$hi - 0x$lo + 1))
}

scenario_disk() {
  pattern=$(arg bhpattern)
  yes "${pattern:-bulkhead}" | head -c 4096 >/tmp/pattern
  # Sector 8 (offset 4096), written past the page cache and flushed to the device.
  if dd if=/tmp/pattern of=/dev/vda bs=4096 seek=1 count=1 oflag=direct conv=notrunc,fsync 2>/dev/null; then
    say vda_write ok
  else
    say vda_write failed
  fi
  if dd if=/dev/vda bs=4096 skip=1 count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/pattern; then
    say vda_readback ok
  else
    say vda_readback mismatch
  fi
  say vda_size "$(cat /sys/block/vda/size)"
  say vda_serial "$(cat /sys/block/vda/serial)"
  say vdb_head "$(head -c 16 /dev/vdb)"
  say vdb_ro "$(cat /sys/block/vdb/ro)"
  if dd if=/dev/zero of=/dev/vdb bs=512 count=1 oflag=direct conv=notrunc,fsync 2>/dev/null; then
    say ro_write allowed
  else
    say ro_write refused
  fi
}

scenario_console() {
  # A failed redirection on exec would end the shell, and PID 1 with it.
  if [ ! -c /dev/hvc0 ]; then
    say console_got no-hvc0
    return
  fi
  exec 3<>/dev/hvc0
  # No echo, so the host sees only our answer; READY tells it echo is off.
  stty -echo -onlcr <&3
  echo READY >&3
  if read -t 60 -r line <&3; then
    echo "$line" | tr a-z A-Z >&3
    say console_got "$line"
  else
    say console_got nothing
  fi
  exec 3>&-
}

scenario_rng() {
  n=$(head -c 64 /dev/hwrng | wc -c)
  if [ "$n" = 64 ]; then say rng ok; else say rng "short-$n"; fi
  say rng_current "$(cat /sys/class/misc/hw_random/rng_current)"
}

# The hostile driver takes the rng and the read-only disk (vdb) from the kernel,
# abuses them, and reads vda after every case; then the kernel drivers take the
# devices back, which resets them, and must find them working.
scenario_hostile() {
  rng=$(basename "$(ls -d /sys/bus/virtio/drivers/virtio_rng/virtio* | head -n 1)")
  blk=$(basename "$(readlink /sys/block/vdb/device)")
  golden=$(head -c 16 /dev/vdb)
  scratch=$(arg bhscratch)
  echo "$rng" >/sys/bus/virtio/drivers/virtio_rng/unbind
  echo "$blk" >/sys/bus/virtio/drivers/virtio_blk/unbind
  bh-vmm-hostile rng "$(window "$rng")" "$scratch" /dev/vda
  say hostile_rng_exit $?
  bh-vmm-hostile blk "$(window "$blk")" "$scratch" /dev/vda
  say hostile_blk_exit $?
  echo "$rng" >/sys/bus/virtio/drivers/virtio_rng/bind
  n=$(head -c 64 /dev/hwrng | wc -c)
  if [ "$n" = 64 ]; then say hostile_rng_rebind ok; else say hostile_rng_rebind "short-$n" && kernel_log; fi
  echo "$blk" >/sys/bus/virtio/drivers/virtio_blk/bind
  dev=/dev/$(ls "/sys/bus/virtio/devices/$blk/block" 2>/dev/null)
  if [ "$(head -c 16 "$dev" 2>/dev/null)" = "$golden" ]; then
    say hostile_blk_rebind ok
  else
    say hostile_blk_rebind failed
    kernel_log
  fi
  say hostile "done"
}

name=$(arg bhtest)
case $name in
  boot | smp)
    say init ok
    say cpus "$(grep -c '^processor' /proc/cpuinfo)"
    say kernel "$(uname -r)"
    ;;
  exitcode)
    sh -c 'exit 42'
    say status $?
    ;;
  initexit)
    # PID 1 ending is a kernel panic: the monitor exits 3.
    say init exiting
    drain
    exit 1
    ;;
  panic)
    say panic triggering
    drain
    echo c >/proc/sysrq-trigger
    ;;
  poweroff)
    # Without ACPI the kernel has no way to power off: it halts every CPU.
    say poweroff requested
    drain
    poweroff -f
    ;;
  sleep)
    say sleeping 1
    drain
    while :; do sleep 3600; done
    ;;
  agent)
    # bh-vmm-agent-peer speaks the host<->guest protocol on hvc0 (echo: the
    # workload exits 7, which ends the monitor; garbage: the monitor ends
    # itself); the power-off only ends a monitor that has not.
    say agent "$(arg bhagent)"
    drain
    bh-vmm-agent-peer guest "$(arg bhagent)"
    say agent_peer_exit $?
    drain
    poweroff -f
    ;;
  disk) scenario_disk ;;
  console) scenario_console ;;
  rng) scenario_rng ;;
  hostile) scenario_hostile ;;
  *) say error "unknown scenario: ${name:-none given}" ;;
esac
finish
