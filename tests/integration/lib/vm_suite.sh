# What the vm tier's suites (vm_tier.sh, vm_containerd.sh, vm_podman.sh, vm_bombs.sh) share:
# the paths of what they test, the checks that skip them where they cannot run, the guest
# kernel, and the files each of their test hosts carries. Bash, sourced after
# `set -uo pipefail`; sourcing sets src, build, rootfs, runtime, vmm and initrd.
#
# vm_suite_setup TAG [FILE...]: skips (exit 77) without root, the runtime, the monitor or
# another FILE the suite needs built, the initrd, the rootfs, mkfs.erofs or the kernel
# sources; sets mkfs, tmp (/tmp/bh-it-TAG.*, removed at exit) and kdir (the guest kernel,
# built if need be; a build that fails fails the suite), and VM_FILES: tools/test-host.sh
# arguments that carry the runtime to /bh/bin/bulkhead, the monitor to /bh/bin/bulkhead-vmm,
# the guest kernel to /bh/vmlinux, the initrd to /bh/initrd.img, mkfs.erofs, the rootfs to
# /bh/rootfs and tests/lib/tap.sh.
# fail NAME [DETAIL]: a "not ok" line and exit 1.

src=${BULKHEAD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
build=${BULKHEAD_BUILD:-$src/build}
rootfs=${BULKHEAD_ROOTFS:-$build/rootfs}
runtime=$build/bin/bulkhead
vmm=$build/bin/bulkhead-vmm
initrd=$build/lib/bulkhead/initrd.img

fail() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; exit 1; }

vm_suite_setup() {
  local tag=$1 f
  shift
  skip() { echo "skipped: $*"; exit 77; }
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  for f in "$runtime" "$vmm" "$@"; do [ -x "$f" ] || skip "$f not built"; done
  [ -f "$initrd" ] || skip "$initrd not built (ninja vm-initrd)"
  [ -d "$rootfs/bin" ] || skip "no rootfs at $rootfs (make rootfs)"
  [ -f /usr/src/linux-source-6.1.tar.xz ] || skip "linux-source-6.1 missing (run tools/deps.sh)"
  mkfs=$(command -v mkfs.erofs) || skip "mkfs.erofs missing (run tools/deps.sh: erofs-utils)"
  tmp=$(mktemp -d "/tmp/bh-it-$tag.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  kdir=$(bash "$src/tools/guest-kernel.sh") || fail "guest kernel builds"
  echo "ok - guest kernel ($kdir)"
  VM_FILES=(--file "$runtime:/bh/bin/bulkhead" --file "$vmm:/bh/bin/bulkhead-vmm"
    --file "$kdir/vmlinux:/bh/vmlinux" --file "$initrd:/bh/initrd.img"
    --file "$mkfs:/usr/bin/mkfs.erofs" --dir "$rootfs:/bh/rootfs"
    --file "$src/tests/lib/tap.sh:/bh/tests/lib/tap.sh")
}

# vm_suite_run_engine SCRIPT [TEST-HOST ARG...]: runs `sh SCRIPT BULKHEAD_VM ROOTFS` for a
# container engine's cases (tests/vmtier/*-in-host.sh) with the runtime in its default layout:
# bulkhead-vm (a symlink to bulkhead) beside bulkhead-vmm, the guest kernel and initrd in
# ../lib/bulkhead, no configuration file. Directly where this machine's KVM boots Linux,
# else inside the test host, which gets VM_FILES, tests/lib/engine_cases.sh, SCRIPT and the
# extra arguments (the engine's binaries and files). Ends the script with the cases' verdict.
vm_suite_run_engine() {
  local script=$1
  shift
  if bash "$src/tools/kvm-usable.sh"; then
    echo "# KVM boots Linux here: running the cases directly"
    mkdir -p "$tmp/bin" "$tmp/lib/bulkhead"
    cp "$runtime" "$vmm" "$tmp/bin/"
    ln -s bulkhead "$tmp/bin/bulkhead-vm"
    cp "$kdir/vmlinux" "$initrd" "$tmp/lib/bulkhead/"
    sh "$src/$script" "$tmp/bin/bulkhead-vm" "$(readlink -f "$rootfs")"
    exit $?
  fi
  echo "# running the cases inside the test host (tools/test-host.sh)"
  # The symlink that names the vm tier, and the kernel and initrd where the runtime looks by
  # default, are made inside: the test host copies regular files.
  bash "$src/tools/test-host.sh" --mem 2048 --smp 2 --timeout 1200 --stall 300 \
    "${VM_FILES[@]}" "$@" --file "$src/$script:/bh/$script" \
    --file "$src/tests/lib/engine_cases.sh:/bh/tests/lib/engine_cases.sh" \
    -- sh -c "ln -s bulkhead /bh/bin/bulkhead-vm && mkdir -p /bh/lib/bulkhead &&
              ln -s /bh/vmlinux /bh/initrd.img /bh/lib/bulkhead/ &&
              exec sh /bh/$script /bh/bin/bulkhead-vm /bh/rootfs"
  local rc=$?
  . "$src/tests/integration/lib/test_host_verdict.sh"
  test_host_verdict "$rc"
}
