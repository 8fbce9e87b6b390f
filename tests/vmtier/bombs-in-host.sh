#!/bin/sh
# The resource bombs in the vm tier (tests/integration/vm_bombs.sh), where /dev/kvm boots Linux
# (inside the test host, busybox only, or directly on a host with real KVM): each bomb runs in
# a vm container of its own, from the hardened defaults with a quarter-CPU quota and a
# 256 MiB memory limit, while a neighbour sandbox of the container tier answers small requests
# through two fifos. For each bomb: what the bomb met inside its VM (its limit), what the
# host saw of the VM (the monitor's cgroup: memory peak within the VM's size, CPU use within
# its one vCPU), and the neighbour's median answer time and the host's spawn time against
# their quiet values just before, at most MAX_RATIO times (the emulated test host is noisy).
#
#   sh bombs-in-host.sh BULKHEAD VMM VMLINUX INITRD ROOTFS CONFIGS_DIR BOMB MAX_RATIO
#
# CONFIGS_DIR holds neighbour.json and <bomb>.json, with @ROOTFS@ and @IPC@ to fill in.
# Output: TAP-style lines and the table ("# | ..."), then "N passed, M failed".
set -u
[ $# -eq 8 ] || { echo "usage: bombs-in-host.sh BULKHEAD VMM VMLINUX INITRD ROOTFS CONFIGS_DIR BOMB MAX_RATIO" >&2; exit 2; }
bh=$1 vmm=$2 kernel=$3 initrd=$4 rootfs=$5 configs=$6 bomb_bin=$7 max_ratio=$8
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-vm-bombs.XXXXXX")
chmod 755 "$work"  # the neighbour's root maps to another uid, which must reach its fifos
root=$work/state
. "$(dirname "$0")/../lib/tap.sh"

cat >"$work/runtime.json" <<JSON
{"kernel": "$kernel", "initrd": "$initrd", "vmm": "$vmm", "image_cache": "$work/images",
 "boot_timeout_s": 300}
JSON
export BULKHEAD_RUNTIME_CONFIG="$work/runtime.json"
cp -a "$rootfs" "$work/rootfs" && cp "$bomb_bin" "$work/rootfs/bh-bomb" &&
  chmod 755 "$work/rootfs/bh-bomb" && mkdir "$work/rootfs/ipc" && mkdir "$work/ipc" &&
  mkfifo -m 666 "$work/ipc/req" "$work/ipc/resp" || { echo "not ok - set-up"; exit 1; }
# A host running from its initramfs (the test host) refuses pivot_root.
no_pivot=""
case $(stat -f -c %T /) in tmpfs | ramfs) no_pivot=--no-pivot ;; esac
bundle() {
  mkdir -p "$work/b-$1"
  sed "s|@ROOTFS@|$work/rootfs|; s|@IPC@|$work/ipc|" "$configs/$1.json" >"$work/b-$1/config.json"
}
# kv TEXT KEY: the value of KEY=VALUE among TEXT's words.
kv() { printf '%s\n' "$1" | tr ' ' '\n' | awk -v k="$2" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 1; printf "%.2f", a / b }'; }
over() { awk -v r="$1" -v m="$max_ratio" 'BEGIN { exit !(r > m) }'; }
ping_neighbour() { timeout 300 "$bomb_bin" ping "$work/ipc/req" "$work/ipc/resp" "$1"; }
# cgv2 ID FILE [KEY]: the monitor's cgroup file, or the value of KEY in it.
cgv2() {
  if [ $# -eq 3 ]; then
    awk -v k="$3" '$1 == k {print $2; exit}' "/sys/fs/cgroup/bulkhead/$1/$2" 2>/dev/null
  else
    cat "/sys/fs/cgroup/bulkhead/$1/$2" 2>/dev/null
  fi
}

bundle neighbour
"$bh" --root "$root" run -d $no_pivot -b "$work/b-neighbour" neighbour </dev/null \
  >"$work/neighbour.out" 2>&1 || { not_ok "the neighbour starts" "$(cat "$work/neighbour.out")"; tap_summary; exit 1; }
ping_neighbour 20 >/dev/null

# contained_BOMB ID ARMED: sets evidence; fails when the limit did not hold.
contained_fork() {
  evidence="fork inside the VM: $(kv "$2" errno) (the guest's pids.max)"
  [ "$(kv "$2" errno)" = EAGAIN ]
}
contained_memory() {
  peak=$(cgv2 "$1" memory.peak) max=$(cgv2 "$1" memory.max)
  evidence="first child inside: $(kv "$2" first); the VM on the host: peak $((${peak:-0} >> 20)) MiB of $((${max:-0} >> 20)) MiB"
  case $(kv "$2" first) in SIGKILL | ENOMEM) ;; *) return 1 ;; esac
  [ -n "$peak" ] && [ "$peak" -le "$max" ]
}
contained_storage() {
  tmp=$(kv "$2" /tmp) shm=$(kv "$2" /dev/shm) slash=$(kv "$2" /)
  evidence="/tmp $((${tmp%%:*} >> 20)) MiB then ${tmp#*:}; /dev/shm $((${shm%%:*} >> 20)) MiB then ${shm#*:}; / ${slash#*:} (in guest RAM; the host's disk untouched)"
  [ "${tmp#*:}" = ENOSPC ] && [ "${shm#*:}" = ENOSPC ] && [ "${slash#*:}" = EROFS ]
}
contained_fds() {
  fds=$(kv "$2" fds)
  evidence="${fds%%:*} opened then ${fds#*:} (RLIMIT_NOFILE $(kv "$2" nofile)); raising it: $(kv "$2" raise)"
  [ "${fds#*:}" = EMFILE ] && [ "${fds%%:*}" -le "$(kv "$2" nofile)" ] && [ "$(kv "$2" raise)" = EPERM ]
}
contained_cpu() {
  used=$(awk -v u="$cpu_used_us" -v t="$cpu_wall_s" 'BEGIN { printf "%.2f", u / 1e6 / t }')
  evidence="$(kv "$2" threads) spinning threads; the VM used $used host CPUs (1 vCPU, a quarter-CPU quota inside)"
  awk -v u="$used" 'BEGIN { exit !(u <= 1.2) }'
}

rows=""
for bomb in fork memory storage fds cpu; do
  id=vbomb-$bomb
  bundle "$bomb"
  quiet=$(ping_neighbour 100)
  "$bh" --root "$root" run -d -b "$work/b-$bomb" "$id" </dev/null >"$work/$bomb.out" 2>"$work/$bomb.err"
  armed=""
  wait_for 300 grep -q '^armed' "$work/$bomb.out" && armed=$(grep -m1 '^armed' "$work/$bomb.out")
  if [ -z "$armed" ]; then
    not_ok "vm $bomb bomb: pressed its limit" "$(tail -c 400 "$work/$bomb.err")"
    "$bh" --root "$root" delete --force "$id" >/dev/null 2>&1
    continue
  fi
  used0=$(cgv2 "$id" cpu.stat usage_usec) t0=$(cut -d' ' -f1 /proc/uptime)
  loaded=$(ping_neighbour 200)
  used1=$(cgv2 "$id" cpu.stat usage_usec) t1=$(cut -d' ' -f1 /proc/uptime)
  cpu_used_us=$((${used1:-0} - ${used0:-0}))
  cpu_wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  evidence=""
  check "vm $bomb bomb: contained by its limits" "$armed" contained_"$bomb" "$id" "$armed"
  out=$("$bh" --root "$root" delete --force "$id" 2>&1)
  check "vm $bomb bomb: delete --force leaves no state, cgroup or VM" "$out" \
    eval '[ ! -e "$root/$id" ] && [ ! -e "/sys/fs/cgroup/bulkhead/$id" ]'
  q50=$(kv "$quiet" rtt_median_us) l50=$(kv "$loaded" rtt_median_us)
  qs=$(kv "$quiet" spawn_median_us) ls=$(kv "$loaded" spawn_median_us)
  r50=$(ratio "$l50" "$q50") rs=$(ratio "$ls" "$qs")
  check "vm $bomb bomb: the neighbour answered every request, within x$max_ratio of quiet (x$r50)" \
    "quiet: $quiet; loaded: $loaded" \
    eval '[ "$(kv "$loaded" timeouts)" = 0 ] && ! over "$r50" && ! over "$rs"'
  rows="$rows
# | $bomb | vm | $evidence | ${q50} -> ${l50} us (x$r50) | ${qs} -> ${ls} us (x$rs) |"
done
echo "# | bomb | tier | contained by its limits | neighbour answer, median | host spawn, median |"
echo "# | --- | --- | --- | --- | --- |"
printf '%s\n' "$rows" | sed '/^$/d'
after=$(ping_neighbour 20)
check "the neighbour still answers after the bombs" "$after" [ "$(kv "$after" timeouts)" = 0 ]
"$bh" --root "$root" delete --force neighbour >/dev/null 2>&1
rm -rf "$work"
tap_summary
