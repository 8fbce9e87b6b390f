#!/bin/sh
# containerd drives the vm tier (tests/integration/vm_containerd.sh): its runc shim
# (io.containerd.runc.v2) with --runc-binary pointing at bulkhead-vm, exactly as a Kubernetes
# RuntimeClass would have it, where /dev/kvm boots Linux (inside the test host, or directly on
# a host with real KVM). The cases are the container tier's containerd matrix: output, exit
# codes, kill, exec with and without a terminal, pause and resume, a terminal for the task.
#
#   sh containerd-in-host.sh BULKHEAD_VM ROOTFS
#
# BULKHEAD_VM is the runtime by its vm-tier name, with bulkhead-vmm beside it and the guest
# kernel and initrd in ../lib/bulkhead (the runtime's defaults: no configuration file).
# containerd, ctr, containerd-shim-runc-v2 and script(1) come from PATH.
# Output: TAP-style lines, then "N passed, M failed"; exit status 1 when anything failed.
set -u
[ $# -eq 2 ] || { echo "usage: containerd-in-host.sh BULKHEAD_VM ROOTFS" >&2; exit 2; }
rt=$1 rootfs=$2
vmm=$(dirname "$rt")/bulkhead-vmm
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-vm-ctd.XXXXXX")
ns=bh-vm
sock=$work/c.sock
start_s=$(date +%s)
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/engine_cases.sh"
. "$(dirname "$0")/../lib/containerd_config.sh"

containerd_config "$work" "$sock" >"$work/config.toml"
containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
ctd_pid=$!

ctr_() { timeout 120 ctr --address "$sock" -n "$ns" "$@"; }
task_status() { ctr_ task ls 2>/dev/null | awk -v id="$1" '$1 == id {print $3}'; }
task_is() { [ "$(task_status "$1")" = "$2" ]; }
# gone ID: no runtime state, cgroup or monitor left of it.
gone() {
  [ ! -e "/run/containerd/runc/$ns/$1" ] && [ ! -e "/sys/fs/cgroup/$ns/$1" ] &&
    wait_for 10 no_vmm_running
}
# on_tty COMMAND: runs the shell command with a terminal (ctr insists on one for -t).
on_tty() { cap timeout 120 script -qec "$1" /dev/null; OUT=$(printf '%s' "$OUT" | tr -d '\r'); }

if ! wait_for 60 test -S "$sock"; then
  not_ok "containerd starts" "$(tail -20 "$work/containerd.log")"
  tap_summary
  exit 1
fi
ok "containerd starts"
host_release=$(uname -r)

# --- ctr run: output, exit status, the guest's own kernel -----------------------------------
cap ctr_ run --rm --runc-binary "$rt" --rootfs "$rootfs" echo /bin/sh -c 'echo hello; uname -r'
check "ctr run: exits 0 with the workload's stdout" "$(diag)" \
  eval '[ $RC = 0 ] && [ "$(echo "$OUT" | sed -n 1p)" = hello ]'
guest_release=$(echo "$OUT" | sed -n 2p)
check "ctr run: uname -r inside ($guest_release) is the guest kernel's, not the host's ($host_release)" \
  "$(diag)" eval '[ -n "$guest_release" ] && [ "$guest_release" != "$host_release" ]'
cap ctr_ run --rm --runc-binary "$rt" --rootfs "$rootfs" exit7 /bin/sh -c 'echo to-stderr >&2; exit 7'
check "ctr run: the workload's exit status 7 is ctr's, its stderr comes back" "$(diag)" \
  eval '[ $RC = 7 ] && echo "$ERR" | grep -q to-stderr'
cap ctr_ run --rm --runc-binary "$rt" --env BH_X=42 --cwd /tmp --rootfs "$rootfs" env \
  /bin/sh -c 'echo "$BH_X $(pwd) $$ $(id -u)"'
check "ctr run: env, cwd, pid 1 and uid seen by the workload" "$(diag)" [ "$OUT" = "42 /tmp 1 0" ]
echo "# run: $(($(date +%s) - start_s)) s"

# --- a detached task: exec, pause, resume, ps, metrics, kill, delete ------------------------
id=detached
cap ctr_ run -d --runc-binary "$rt" --rootfs "$rootfs" "$id" \
  /bin/sh -c 'trap "exit 143" TERM; sleep 1000 & wait $!'
check "ctr run -d: exits 0, the task is RUNNING" "$(diag)" \
  eval '[ $RC = 0 ] && wait_for 30 task_is "$id" RUNNING'
pid=$(ctr_ task ls 2>/dev/null | awk -v id="$id" '$1 == id {print $2}')
check "ctr run -d: the task's pid is the live monitor, in the cgroup containerd asked for" \
  "pid $pid: $(cat "/proc/${pid:-0}/cmdline" 2>&1 | tr '\0' ' '); $(cat "/proc/${pid:-0}/cgroup" 2>&1)" \
  eval 'tr "\0" " " <"/proc/${pid:-0}/cmdline" | grep -q bulkhead-vmm &&
        grep -qs "/$ns/$id\$" "/proc/${pid:-0}/cgroup"'
cap ctr_ task exec --exec-id x1 "$id" /bin/sh -c 'echo "exec $(tr "\0" " " </proc/1/cmdline)"'
check "ctr task exec: exits 0 and sees the task's init as pid 1" "$(diag)" \
  eval '[ $RC = 0 ] && echo "$OUT" | grep -q "^exec /bin/sh -c"'
cap ctr_ task exec --exec-id x2 "$id" /bin/sh -c 'exit 5'
check "ctr task exec: returns the process's exit status 5" "$(diag)" [ "$RC" = 5 ]
on_tty "ctr --address $sock -n $ns task exec -t --exec-id x3 $id /bin/sh -c 'tty; [ -t 0 ] && echo in-tty'"
check "ctr task exec -t: exits 0 on a pty of the guest's" "$(diag)" \
  eval '[ $RC = 0 ] && echo "$OUT" | grep -q "/dev/pts/[0-9]" && echo "$OUT" | grep -q in-tty'
cap ctr_ task pause "$id"
check "ctr task pause: exits 0, the task is PAUSED" "$(diag)" \
  eval '[ $RC = 0 ] && wait_for 10 task_is "$id" PAUSED'
cap ctr_ task resume "$id"
check "ctr task resume: exits 0, the task is RUNNING" "$(diag)" \
  eval '[ $RC = 0 ] && wait_for 10 task_is "$id" RUNNING'
cap ctr_ task exec --exec-id x4 "$id" /bin/echo resumed
check "ctr task resume: the guest answers again (exec)" "$(diag)" [ "$OUT" = resumed ]
cap ctr_ task ps "$id"
check "ctr task ps: exits 0 and lists the monitor" "$(diag)" \
  eval '[ $RC = 0 ] && echo "$OUT" | grep -q "^ *$pid\b"'
cap ctr_ task metrics "$id"
check "ctr task metrics: exits 0 with memory figures (the monitor's cgroup)" "$(diag)" \
  eval '[ $RC = 0 ] && echo "$OUT" | grep -qi memory'
cap ctr_ task kill "$id"
check "ctr task kill (SIGTERM): exits 0, the task is STOPPED" "$(diag)" \
  eval '[ $RC = 0 ] && wait_for 60 task_is "$id" STOPPED'
cap ctr_ task delete "$id"
check "ctr task delete: exits 0 reporting the exit status 143" "$(diag)" \
  eval '[ $RC = 0 ] && echo "$OUT$ERR" | grep -q 143'
cap ctr_ container delete "$id"
check "ctr container delete: exits 0; no state, cgroup or monitor left" \
  "$(diag); $(ls -R "/run/containerd/runc/$ns" 2>&1)" eval '[ $RC = 0 ] && gone "$id"'

# --- the task's own process on a terminal ---------------------------------------------------
on_tty "ctr --address $sock -n $ns run --rm -t --runc-binary $rt --rootfs $rootfs tty /bin/sh -c 'tty; [ -t 0 ] && echo in-tty; exit 3'"
check "ctr run -t: the workload runs on a pty and its exit status 3 is ctr's" "$(diag)" \
  eval '[ $RC = 3 ] && echo "$OUT" | grep -q "/dev/pts/[0-9]" && echo "$OUT" | grep -q in-tty'

# --- a runtime failure reaches the caller, and leaves nothing -------------------------------
cap ctr_ run --rm --runc-binary "$rt" --rootfs "$rootfs" badcmd /no/such/binary
check "ctr run of a missing binary fails, naming it" "$(diag)" \
  eval '[ $RC != 0 ] && echo "$OUT$ERR" | grep -q /no/such/binary'
ctr_ container delete badcmd >/dev/null 2>&1
check "a failed task is not left behind" "$(ctr_ containers ls 2>&1)" \
  eval '! ctr_ containers ls -q 2>/dev/null | grep -q badcmd && gone badcmd'

echo "# total: $(($(date +%s) - start_s)) s"
kill "$ctd_pid" 2>/dev/null
wait_for 10 eval '! kill -0 "$ctd_pid" 2>/dev/null'
rm -rf "$work"
tap_summary
