#!/usr/bin/env bash
# The VM tier's guest initrd: an uncompressed cpio (newc) holding /init (bulkhead-init,
# static, stripped), /dev and the /dev/console node the kernel opens for /init before
# devtmpfs exists. The archive is written directly, so the node needs no mknod and the build
# needs no root.
#
#   tools/vm-initrd.sh OUT BULKHEAD_INIT
set -euo pipefail

die() { echo "vm-initrd: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: vm-initrd.sh OUT BULKHEAD_INIT"
out=$1 init=$2
[ -f "$init" ] || die "no such program: $init"
readelf -l "$init" 2>/dev/null | grep -q 'program interpreter' && die "$init is not static"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bh-vm-initrd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
strip -o "$tmp/init" "$init"

ino=1
# entry NAME MODE RDEV_MAJOR RDEV_MINOR [FILE]: one newc header, the name, the data, each
# padded to 4 bytes.
entry() {
  local name=$1 mode=$2 major=$3 minor=$4 file=${5:-} size=0
  [ -n "$file" ] && size=$(stat -c %s "$file")
  local namesize=$((${#name} + 1))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$ino" "$mode" 0 0 1 0 "$size" 0 0 "$major" "$minor" "$namesize" 0
  printf '%s\0' "$name"
  head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero
  if [ -n "$file" ]; then
    cat "$file"
    head -c $(((4 - size % 4) % 4)) /dev/zero
  fi
  ino=$((ino + 1))
}

mkdir -p "$(dirname "$out")"
{
  entry . $((0040755)) 0 0
  entry dev $((0040755)) 0 0
  entry dev/console $((0020600)) 5 1
  entry init $((0100755)) 0 0 "$tmp/init"
  entry TRAILER!!! 0 0 0
} >"$out.tmp"
mv "$out.tmp" "$out"
