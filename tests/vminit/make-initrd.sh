#!/usr/bin/env bash
# Builds the VM tier's guest initrd: /init is bulkhead-init (static, stripped), plus
# /dev/console, which the kernel opens for /init before anything mounts devtmpfs. Nothing
# else: the container's files come from the rootfs disk.
#
#   tests/vminit/make-initrd.sh OUT.cpio.gz BULKHEAD_INIT
#
# Needs root (mknod).
set -euo pipefail

die() { echo "make-initrd: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: make-initrd.sh OUT.cpio.gz BULKHEAD_INIT"
out=$1 init=$2
[ -f "$init" ] || die "no such program: $init"
readelf -l "$init" 2>/dev/null | grep -q 'program interpreter' && die "$init is not static"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bh-vminit-initrd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/dev"
strip -o "$root/init" "$init"
chmod 755 "$root/init"
mknod -m 600 "$root/dev/console" c 5 1
mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -6n >"$out.tmp"
mv "$out.tmp" "$out"
