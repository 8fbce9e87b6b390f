#!/bin/sh
# The runs of the vm-tier benchmark (bench/vmtier.sh). Runs where /dev/kvm boots Linux: inside
# the test host (busybox only) or directly on a host with real KVM.
#
#   sh vmtier-in-host.sh TIMER BULKHEAD VMM KERNEL INITRD ROOTFS CONFIGS RUNS PHASE_RUNS
#
# `bulkhead run` of /bin/true in the container tier and in the vm tier in turn (container,
# vm, container, ...), one untimed warm-up each first (it builds the rootfs image), then RUNS
# timed runs each, through TIMER (bench/run-timer.c): "BENCH TIER N ms=.. rc=..", and a
# failed run's messages as "LOG TIER N: <line>". Then
# PHASE_RUNS vm-tier runs with the runtime's debug log, each log line printed as
# "PHASE N <line>", from which bench/vmtier.sh reads the phases. CONFIGS holds container.json
# and vm.json, whose root.path is @ROOTFS@.
set -u
[ $# -eq 9 ] || { echo "usage: vmtier-in-host.sh TIMER BULKHEAD VMM KERNEL INITRD ROOTFS CONFIGS RUNS PHASE_RUNS" >&2; exit 2; }
timer=$1 bh=$2 vmm=$3 kernel=$4 initrd=$5 rootfs=$6 configs=$7 runs=$8 phase_runs=$9
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-vmtier-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/runtime.json" <<JSON
{"kernel": "$kernel", "initrd": "$initrd", "vmm": "$vmm", "image_cache": "$work/images",
 "boot_timeout_s": 300}
JSON
export BULKHEAD_RUNTIME_CONFIG="$work/runtime.json"
# A test host that froze is booted again (tools/test-host.sh --stall): the report reads
# only what follows the last of these lines.
echo BENCH-START
for t in container vm; do
  mkdir -p "$work/b-$t"
  sed "s|@ROOTFS@|$rootfs|" "$configs/$t.json" >"$work/b-$t/config.json"
done

# A host running from its initramfs (the test host) refuses pivot_root: the container tier
# then needs --no-pivot, as runc does there. The vm tier's guest init handles that itself.
no_pivot=""
[ "$(stat -f -c %T /)" = tmpfs ] || [ "$(stat -f -c %T /)" = ramfs ] && no_pivot=--no-pivot
i=0
while [ "$i" -le "$runs" ]; do
  for t in container vm; do
    flag=""
    [ "$t" = container ] && flag=$no_pivot
    "$timer" "$bh" --root "$work/state" run $flag -b "$work/b-$t" "bench-$t-$i" >/dev/null \
      2>"$work/err"
    echo "BENCH $t $i $(tail -n 1 "$work/err")"
    # A failed run's own messages, for the report.
    grep -q ' rc=0$' "$work/err" || sed '$d; s/^/LOG '"$t $i"': /' "$work/err"
  done
  i=$((i + 1))
done
i=1
while [ "$i" -le "$phase_runs" ]; do
  "$bh" --root "$work/state" --debug --log "$work/phase.log" --log-format json \
    run -b "$work/b-vm" "bench-phase-$i" >/dev/null 2>&1 </dev/null
  sed "s/^/PHASE $i /" "$work/phase.log"
  rm -f "$work/phase.log"
  i=$((i + 1))
done
