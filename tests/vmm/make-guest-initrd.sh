#!/usr/bin/env bash
# Builds the initramfs of the VMM test guest: static busybox with its applets,
# /init from tests/vmm/guest/init.sh, and the given static programs in /bin
# (the hostile driver, bh-vmm-hostile, from the CMake build).
#
#   tests/vmm/make-guest-initrd.sh OUT.cpio.gz [PROGRAM...]
#
# Needs root (it makes /dev/console, which the kernel opens for /init before
# anything mounts devtmpfs).
set -euo pipefail

die() { echo "make-guest-initrd: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: make-guest-initrd.sh OUT.cpio.gz [PROGRAM...]"
out=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
busybox=/bin/busybox

# static FILE: true for an ELF file without a program interpreter.
static() { readelf -h "$1" >/dev/null 2>&1 && ! readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'; }

[ -x "$busybox" ] || die "$busybox missing (package busybox-static; run tools/deps.sh)"
static "$busybox" || die "$busybox is not statically linked (package busybox-static)"
for p in "$@"; do
  [ -f "$p" ] || die "no such program: $p"
  static "$p" || die "not a static ELF program: $p"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bh-guest-initrd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
for p in "$@"; do cp "$p" "$root/bin/$(basename "$p")"; done
install -m 755 "$here/guest/init.sh" "$root/init"
mknod -m 600 "$root/dev/console" c 5 1

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
