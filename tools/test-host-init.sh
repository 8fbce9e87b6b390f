#!/bin/sh
# /init of the test host (busybox sh): mounts the usual filesystems, loads KVM for AMD with
# nesting, runs the command tools/test-host.sh put in /.test-host/command between two
# markers on the console, and powers off. The markers carry a nonce, so output of the
# command cannot pass for them.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# /tmp stays on the initramfs (already a tmpfs): files copied in may live there.
chmod 1777 /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
nonce=$(cat /.test-host/nonce)

# Output written to the console is still in the UART's buffer when write() returns; stty
# applies its settings with TCSADRAIN, which waits until all of it is out.
finish() {
  stty -F /dev/console onlcr 2>/dev/null
  poweroff -f
}
fail() { echo "test-host: $*"; finish; }

for m in $(cat /lib/modules/order); do
  args=""
  # nested=1: guests of the test host may use SVM themselves.
  [ "$m" = kvm-amd ] && args="nested=1"
  insmod "/lib/modules/$m.ko" $args || fail "insmod $m failed"
done
[ -c /dev/kvm ] || fail "/dev/kvm missing after loading kvm-amd (does the CPU model have svm?)"

# Boot messages went to the boot log; from here the console is the command's.
echo 1 >/proc/sys/kernel/printk
echo "TEST-HOST-START-$nonce"
sh /.test-host/command </dev/null
rc=$?
echo "TEST-HOST-EXIT-$nonce=$rc"
finish
