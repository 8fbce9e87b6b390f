#!/bin/sh
# podman drives the vm tier (tests/integration/vm_podman.sh): Debian's podman with
# --runtime pointing at bulkhead-vm, where /dev/kvm boots Linux (inside the test host, or
# directly on a host with real KVM). podman gives every container writable binds of its own
# (/etc/hosts, /etc/resolv.conf, /etc/hostname, /run/.containerenv), so these cases are also
# writable volumes as a container engine makes them.
#
#   sh podman-in-host.sh BULKHEAD_VM ROOTFS
#
# BULKHEAD_VM is the runtime by its vm-tier name, with bulkhead-vmm beside it and the guest
# kernel and initrd in ../lib/bulkhead. podman, conmon and script(1) come from PATH.
# Output: TAP-style lines, then "N passed, M failed"; exit status 1 when anything failed.
set -u
[ $# -eq 2 ] || { echo "usage: podman-in-host.sh BULKHEAD_VM ROOTFS" >&2; exit 2; }
rt=$1 rootfs=$2
vmm=$(dirname "$rt")/bulkhead-vmm
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-vm-pm.XXXXXX")
start_s=$(date +%s)
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/engine_cases.sh"

mkdir -p "$work/root" "$work/run" "$work/tmp"
# podman's default rlimits (nofile and nproc 1048576) are set inside the guest, where they
# fit; explicit ones keep the cases the same as the container tier's podman test.
pm() {
  timeout -k 5 180 podman --root "$work/root" --runroot "$work/run" --tmpdir "$work/tmp" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --log-level error \
    --runtime "$rt" "$@"
}
run_() { pm run --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"; }
host_release=$(uname -r)

# --- run: output, exit status, the guest's own kernel, podman's own writable binds ----------
cap run_ --rm --hostname vmbox --rootfs "$rootfs" /bin/sh -c \
  'echo hello; uname -r; echo "$(cat /etc/hostname)"; grep -c vmbox /etc/hosts; echo err >&2; exit 7'
check "podman run: the workload's exit status 7 is podman's" "$(diag)" [ "$RC" = 7 ]
check "podman run: stdout and stderr come through" "$(diag)" \
  eval '[ "$(echo "$OUT" | sed -n 1p)" = hello ] && echo "$ERR" | grep -qx err'
check "podman run: uname -r inside is the guest kernel's, not the host's ($host_release)" "$(diag)" \
  eval '[ -n "$(echo "$OUT" | sed -n 2p)" ] && [ "$(echo "$OUT" | sed -n 2p)" != "$host_release" ]'
check "podman run: its /etc/hostname and /etc/hosts (writable binds) reach the guest" "$(diag)" \
  eval '[ "$(echo "$OUT" | sed -n 3p)" = vmbox ] && [ "$(echo "$OUT" | sed -n 4p)" -ge 1 ]'
check "podman run --rm: no monitor left" "$(ps -o pid,args | grep bulkhead)" wait_for 10 no_vmm_running

# --- run -it: a terminal for the container's own process (conmon's console socket) --------
pm_line="podman --root $work/root --runroot $work/run --tmpdir $work/tmp --storage-driver vfs \
  --cgroup-manager cgroupfs --events-backend file --log-level error --runtime $rt"
# on_tty COMMAND: runs the shell command on a fresh terminal; its output without CRs and
# without the "^@" the terminal echoes for a NUL podman writes (with runc as well), which
# can land between any two lines.
on_tty() {
  cap timeout 180 script -qec "$1" /dev/null
  OUT=$(printf '%s' "$OUT" | tr -d '\r' | sed 's/\^@//g')
}
# podman attaches to a terminal only after it started the process, whose first output is
# then sometimes lost (with runc as well): it waits a moment first.
on_tty "$pm_line run --rm -it --network none --rootfs $rootfs /bin/sh -c 'sleep 0.5; tty; [ -t 0 ] && echo in-tty; exit 4'"
check "podman run -it: a terminal in the guest, and the exit status" "$(diag)" \
  eval '[ $RC = 4 ] && echo "$OUT" | grep -q "/dev/pts/[0-9]" && echo "$OUT" | grep -qx in-tty'

# --- a writable volume (-v): written inside, on the host after the container exits ----------
mkdir -p "$work/data"
echo keep >"$work/data/keep"
cap run_ --rm -v "$work/data:/data" --rootfs "$rootfs" /bin/sh -c \
  'echo from-the-vm >/data/out; mkdir /data/made; rm /data/keep; cat /proc/self/mountinfo | grep -c " /data "'
check "podman run -v: what the workload wrote in the volume is on the host after it exits" \
  "$(diag); volume: $(ls -la "$work/data")" \
  eval '[ $RC = 0 ] && [ "$(cat "$work/data/out")" = from-the-vm ] && [ -d "$work/data/made" ] &&
        [ ! -e "$work/data/keep" ]'

# --- detached: exec, stop, rm ----------------------------------------------------------------
name=bh-vm-pm-$$
cap run_ -d --name "$name" --rootfs "$rootfs" /bin/sh -c 'trap "exit 0" TERM; sleep 300 & wait'
check "podman run -d exits 0" "$(diag)" [ "$RC" = 0 ]
cap pm exec "$name" /bin/sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "; echo; exit 6'
check "podman exec: its exit status 6 and output, inside the container" "$(diag)" \
  eval '[ $RC = 6 ] && [ "$(echo "$OUT" | sed -n 1p)" = in-exec ] &&
        echo "$OUT" | sed -n 2p | grep -q "^/bin/sh -c trap"'
on_tty "$pm_line exec -it $name /bin/sh -c 'sleep 0.5; tty; [ -t 0 ] && echo in-tty; exit 2'"
check "podman exec -it: a terminal of its own, and its exit status" "$(diag)" \
  eval '[ $RC = 2 ] && echo "$OUT" | grep -q "/dev/pts/[0-9]" && echo "$OUT" | grep -qx in-tty'
cap pm stop -t 10 "$name"
check "podman stop: exits 0 and the container reports exited" "$(diag)" \
  eval '[ $RC = 0 ] && [ "$(pm inspect -f "{{.State.Status}}" "$name" 2>/dev/null)" = exited ]'
cap pm rm "$name"
check "podman rm: exits 0, nothing left: no monitor, no container" \
  "$(diag); $(pm ps -a 2>&1); $(ps -o pid,args | grep bulkhead)" \
  eval '[ $RC = 0 ] && wait_for 10 no_vmm_running && [ -z "$(pm ps -aq 2>/dev/null)" ]'

# --- bad input: a missing binary fails the run and leaves nothing ---------------------------
cap run_ --rm --rootfs "$rootfs" /no/such/binary
check "podman run of a missing binary fails, leaving nothing" "$(diag)" \
  eval '[ $RC != 0 ] && [ -z "$(pm ps -aq 2>/dev/null)" ] && wait_for 10 no_vmm_running'

echo "# podman cases: $(($(date +%s) - start_s)) s"
rm -rf "$work" 2>/dev/null
tap_summary
