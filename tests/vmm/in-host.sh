#!/bin/sh
# The VMM integration test proper: boots the test guest (tests/vmm/guest) under
# bulkhead-vmm once per scenario and checks its serial lines ("BHTEST k=v") and
# the monitor's exit status. Runs where /dev/kvm boots Linux: inside the test
# host (tools/test-host.sh, busybox only) or directly on a host with real KVM.
#
#   sh in-host.sh VMM BZIMAGE VMLINUX INITRD CONSOLE_PEER AGENT_PEER [CASE...]
#
# CASE: boot pvh smp exitcode initexit panic poweroff disk console agent rng
# hostile seccomp sigterm config (default: all). Output: "ok - NAME" / "not ok - NAME"
# lines with "#" diagnostics, then "N passed, M failed"; exit status 1 when
# anything failed. Scratch files go to a fresh directory under $TMPDIR or /tmp.
set -u
[ $# -ge 6 ] || { echo "usage: in-host.sh VMM BZIMAGE VMLINUX INITRD CONSOLE_PEER AGENT_PEER [CASE...]" >&2; exit 2; }
vmm=$1 bzimage=$2 vmlinux=$3 initrd=$4 peer=$5 agent_peer=$6
shift 6
cases=${*:-boot pvh smp exitcode initexit panic poweroff disk console agent rng hostile seccomp sigterm config}
# Seconds one guest may take from start to exit (the hostile one: its own limit);
# a monitor still running then is killed with SIGKILL (status 137, which no
# documented outcome uses).
limit=${BH_VMM_LIMIT:-180}
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-vmm.XXXXXX")
trap 'rm -rf "$work"' EXIT
kernel=$bzimage
. "$(dirname "$0")/../lib/tap.sh"
# log_tail: the end of the last run's serial output and stderr, for diagnostics.
log_tail() {
  echo "--- serial (last 15 lines) ---"
  tail -n 15 "$serial"
  echo "--- stderr ---"
  tail -n 10 "$work/$run.err"
}

# vm NAME [FLAGS...]: runs the monitor on $kernel and the test initrd; the
# serial console (\r removed) lands in $serial, the exit status in $rc.
vm() {
  run=$1
  shift
  timeout -s KILL "$limit" "$vmm" --kernel "$kernel" --initrd "$initrd" "$@" \
    </dev/null >"$work/$run.raw" 2>"$work/$run.err"
  rc=$?
  serial=$work/$run.serial
  tr -d '\r' <"$work/$run.raw" >"$serial"
}
cmdline() { echo "console=ttyS0 quiet bhtest=$*"; }
# val KEY: the value of the last "BHTEST KEY=" line of the last run.
val() { grep -a "^BHTEST $1=" "$serial" | tail -n 1 | cut -d= -f2-; }

expect_rc() {
  if [ "$rc" = "$2" ]; then ok "$1"; else not_ok "$1" "exit status $rc, expected $2$(printf '\n%s' "$(log_tail)")"; fi
}
expect() {
  v=$(val "$2")
  if [ "$v" = "$3" ]; then ok "$1"; else not_ok "$1" "BHTEST $2=[$v], expected [$3]"; fi
}

case_boot() {
  vm boot --cmdline "$(cmdline boot)"
  expect_rc "boot: bzImage guest reboots, monitor exits 0" 0
  expect "boot: init ran" init ok
  expect "boot: one vCPU by default" cpus 1
  if [ -n "$(val kernel)" ]; then ok "boot: uname -r answers"; else not_ok "boot: uname -r answers"; fi
}

case_pvh() {
  kernel=$vmlinux
  vm pvh --cmdline "$(cmdline boot)"
  kernel=$bzimage
  expect_rc "pvh: ELF vmlinux guest reboots, monitor exits 0" 0
  expect "pvh: init ran" init ok
}

case_smp() {
  vm smp --vcpus 4 --memory 256 --cmdline "$(cmdline smp)"
  expect_rc "smp: 4-vCPU guest reboots" 0
  expect "smp: the guest sees 4 CPUs" cpus 4
}

case_exitcode() {
  vm exitcode --cmdline "$(cmdline exitcode)"
  expect_rc "exitcode: guest reboots after its command" 0
  expect "exitcode: the command's status reaches the serial console" status 42
}

case_initexit() {
  vm initexit --cmdline "$(cmdline initexit)"
  expect_rc "initexit: init exiting is a guest panic, monitor exits 3" 3
  expect "initexit: init ran" init exiting
}

case_panic() {
  vm panic --cmdline "$(cmdline panic)"
  expect_rc "panic: sysrq crash, monitor exits 3" 3
  if grep -aq "Kernel panic" "$serial"; then ok "panic: the panic reached the serial console"; else
    not_ok "panic: the panic reached the serial console" "$(log_tail)"
  fi
}

# Linux without ACPI has no power-off method: poweroff halts every CPU with
# interrupts off (kernel/reboot.c turns POWER_OFF into HALT), which the monitor
# recognizes as the guest's power-off.
case_poweroff() {
  vm poweroff --cmdline "$(cmdline poweroff)"
  expect_rc "poweroff: guest power-off, monitor exits 5" 5
  expect "poweroff: init asked for it" poweroff requested
  vm poweroff4 --vcpus 4 --memory 256 --cmdline "$(cmdline poweroff)"
  expect_rc "poweroff: a 4-vCPU guest's power-off, monitor exits 5" 5
}

# alive PID: the process runs (an exited child stays a zombie until waited for).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# wait_line_then_term NAME TEXT SETTLE FLAGS...: starts the monitor, waits for the
# serial line "BHTEST TEXT" (as KEY VALUE), waits SETTLE more seconds, checks the
# monitor is still running, sends SIGTERM; the status lands in $rc.
wait_line_then_term() {
  run=$1 text=$2 settle=$3
  shift 3
  serial=$work/$run.serial
  "$vmm" --kernel "$kernel" --initrd "$initrd" "$@" </dev/null >"$work/$run.raw" 2>"$work/$run.err" &
  pid=$!
  key=${text%% *}
  i=0
  while [ $i -lt "$limit" ] && alive "$pid" && ! tr -d '\r' <"$work/$run.raw" | grep -aq "^BHTEST $key=${text#* }"; do
    sleep 1
    i=$((i + 1))
  done
  sleep "$settle"
  alive "$pid" && kill -TERM "$pid"
  # A monitor that ignores SIGTERM must not hang the test.
  (sleep 30 && kill -KILL "$pid" 2>/dev/null) &
  dog=$!
  wait "$pid"
  rc=$?
  kill "$dog" 2>/dev/null
  tr -d '\r' <"$work/$run.raw" >"$serial"
}

case_disk() {
  dd if=/dev/zero of="$work/vda.img" bs=1024 count=1024 2>/dev/null
  dd if=/dev/zero of="$work/vdb.img" bs=1024 count=1024 2>/dev/null
  printf 'BULKHEAD-RO-DISK' | dd of="$work/vdb.img" conv=notrunc 2>/dev/null
  cp "$work/vdb.img" "$work/vdb.orig"
  word=pattern$$
  vm disk --disk "id=scratch,path=$work/vda.img" --disk "id=golden,path=$work/vdb.img,ro" \
    --cmdline "$(cmdline disk) bhpattern=$word"
  expect_rc "disk: guest reboots" 0
  expect "disk: write to vda (O_DIRECT, fsync)" vda_write ok
  expect "disk: vda reads back what was written" vda_readback ok
  expect "disk: vda has the image's 2048 sectors" vda_size 2048
  expect "disk: vda's serial is its id (GET_ID)" vda_serial scratch
  expect "disk: vdb shows the image's first bytes" vdb_head BULKHEAD-RO-DISK
  expect "disk: vdb is read-only in the guest" vdb_ro 1
  expect "disk: writing vdb is refused" ro_write refused
  yes "$word" | head -c 4096 >"$work/pattern"
  if dd if="$work/vda.img" bs=4096 skip=1 count=1 2>/dev/null | cmp -s - "$work/pattern"; then
    ok "disk: the pattern is in vda's image at offset 4096"
  else
    not_ok "disk: the pattern is in vda's image at offset 4096"
  fi
  if cmp -s "$work/vdb.img" "$work/vdb.orig"; then ok "disk: vdb's image is unchanged"; else
    not_ok "disk: vdb's image is unchanged"
  fi
}

case_console() {
  sock=$work/console.sock
  "$peer" "$sock" "$limit" >"$work/peer.out" 2>&1 &
  peer_pid=$!
  i=0
  while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  vm console --console "socket:$sock" --cmdline "$(cmdline console)"
  wait "$peer_pid"
  peer_rc=$?
  expect_rc "console: guest reboots" 0
  expect "console: the guest read the host's line from hvc0" console_got ping
  if [ "$peer_rc" = 0 ]; then ok "console: the host got PING back"; else
    not_ok "console: the host got PING back" "console-peer exit $peer_rc: $(cat "$work/peer.out")"
  fi
}

# Agent mode: the guest's bh-vmm-agent-peer speaks the protocol on hvc0. A
# guest that sends garbage ends the monitor with 6 at once; then one that
# echoes start's payload as its stdout and exits 7 ends it with 7, and the
# test host is none the worse for the first.
case_agent() {
  sock=$work/agent.sock
  vm agent-garbage --agent-socket "$sock" --serial "file:$work/agent-garbage.log" \
    --cmdline "$(cmdline agent) bhagent=garbage"
  serial=$work/agent-garbage.log
  expect_rc "agent: a guest sending garbage ends the monitor with 6" 6
  if grep -q "guest protocol violation.*bad magic" "$work/$run.err"; then ok "agent: the message names the bad frame"; else
    not_ok "agent: the message names the bad frame" "stderr: $(cat "$work/$run.err")"
  fi
  if [ ! -e "$sock" ]; then ok "agent: the monitor removed its socket"; else not_ok "agent: the monitor removed its socket"; fi

  payload='{"echo":"from the host"}'
  "$agent_peer" client "$sock" "$payload" "$limit" >"$work/agent-client.out" 2>&1 &
  client_pid=$!
  vm agent --agent-socket "$sock" --serial "file:$work/agent.log" --cmdline "$(cmdline agent) bhagent=echo"
  serial=$work/agent.log
  wait "$client_pid"
  client_rc=$?
  expect_rc "agent: the monitor exits with the workload's status 7" 7
  if [ "$(cat "$work/$run.raw")" = "$payload" ]; then ok "agent: the workload's stdout is the monitor's stdout"; else
    not_ok "agent: the workload's stdout is the monitor's stdout" "stdout: [$(cat "$work/$run.raw")]$(printf '\n%s' "$(log_tail)")"
  fi
  if [ "$client_rc" = 0 ] && grep -q "agent-peer: exit 7" "$work/agent-client.out"; then
    ok "agent: the client that sent start got the exit"
  else
    not_ok "agent: the client that sent start got the exit" "client exit $client_rc: $(cat "$work/agent-client.out")"
  fi
}

case_rng() {
  vm rng --rng --cmdline "$(cmdline rng)"
  expect_rc "rng: guest reboots" 0
  expect "rng: 64 bytes from /dev/hwrng" rng ok
  case $(val rng_current) in
    virtio_rng*) ok "rng: the kernel uses the virtio rng" ;;
    *) not_ok "rng: the kernel uses the virtio rng" "rng_current=[$(val rng_current)]" ;;
  esac
}

# The hostile driver needs a range the kernel leaves alone: 16 MiB at 96 MiB.
case_hostile() {
  dd if=/dev/zero of="$work/vda.img" bs=1024 count=1024 2>/dev/null
  dd if=/dev/zero of="$work/vdb.img" bs=1024 count=1024 2>/dev/null
  printf 'BULKHEAD-RO-DISK' | dd of="$work/vdb.img" conv=notrunc 2>/dev/null
  cp "$work/vdb.img" "$work/vdb.orig"
  saved_limit=$limit
  limit=${BH_VMM_HOSTILE_LIMIT:-900}
  vm hostile --memory 256 --rng --disk "id=scratch,path=$work/vda.img" \
    --disk "id=golden,path=$work/vdb.img,ro" \
    --cmdline "$(cmdline hostile) memmap=16M\$96M bhscratch=6000000:1000000"
  limit=$saved_limit
  expect_rc "hostile: monitor survives and the guest reboots" 0
  for dev in rng blk; do
    expect "hostile: $dev: a valid request is served (control)" "hostile_${dev}_control" ok
    total=0 bad=""
    for line in $(grep -a "^BHTEST hostile_${dev}_[a-z_]*=" "$serial" |
      grep -Ev "^BHTEST hostile_${dev}_(control|cases|exit|rebind)=" | cut -c8-); do
      total=$((total + 1))
      [ "${line#*=}" = survived ] || bad="$bad $line"
    done
    if [ -z "$bad" ] && [ "$total" -gt 0 ] && [ "$(val "hostile_${dev}_cases")" = "$total" ]; then
      ok "hostile: $dev: all $total cases survived"
    else
      not_ok "hostile: $dev: all cases survived" "ran $total, cases=$(val "hostile_${dev}_cases"), failed:$bad$(printf '\n%s' "$(log_tail)")"
    fi
    expect "hostile: $dev: the driver exited 0" "hostile_${dev}_exit" 0
    expect "hostile: $dev: the kernel driver works again after rebinding" "hostile_${dev}_rebind" ok
  done
  expect "hostile: blk: unknown request type gets UNSUPP" hostile_blkstatus_unknown_type 2
  expect "hostile: blk: the last sector reads" hostile_blkstatus_last_sector 0
  expect "hostile: blk: a sector past the end gets IOERR" hostile_blkstatus_beyond_capacity 1
  expect "hostile: blk: a sector that overflows gets IOERR" hostile_blkstatus_sector_overflow 1
  expect "hostile: blk: a write to the read-only disk gets IOERR" hostile_blkstatus_write_ro 1
  expect "hostile: the guest finished" hostile "done"
  if cmp -s "$work/vdb.img" "$work/vdb.orig"; then ok "hostile: the read-only image is unchanged"; else
    not_ok "hostile: the read-only image is unchanged"
  fi
}

case_seccomp() {
  for role in vcpu event-loop; do
    vm "seccomp-$role" --seccomp-selftest "$role" --cmdline "$(cmdline sleep)"
    expect_rc "seccomp: a forbidden call on the $role thread kills the monitor by SIGSYS" 159
  done
}

case_sigterm() {
  wait_line_then_term sigterm "sleeping 1" 2 --cmdline "$(cmdline sleep)"
  expect_rc "sigterm: an idle VM keeps running, and ends on SIGTERM with 143" 143
}

case_config() {
  kernel=$work/no-such-vmlinux
  vm config-kernel --cmdline "$(cmdline boot)"
  kernel=$bzimage
  expect_rc "config: a missing kernel file is a setup error (1)" 1
  if grep -q "no-such-vmlinux" "$work/config-kernel.err"; then ok "config: the message names the missing kernel"; else
    not_ok "config: the message names the missing kernel" "stderr: $(cat "$work/config-kernel.err")"
  fi
  vm config-vcpus --vcpus 33 --cmdline "$(cmdline boot)"
  expect_rc "config: 33 vCPUs is a setup error (1)" 1
}

for c in $cases; do
  case $c in
    boot | pvh | smp | exitcode | initexit | panic | poweroff | disk | console | agent | rng | hostile | seccomp | sigterm | config)
      start=$(date +%s)
      "case_$c"
      echo "# $c: $(($(date +%s) - start)) s"
      ;;
    *) not_ok "unknown case $c" ;;
  esac
done
tap_summary
