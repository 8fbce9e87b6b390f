#!/usr/bin/env bash
# Builds the default rootfs from Debian's busybox-static: a tiny tree with a
# shell and the usual tools, made locally so nothing is downloaded.
set -euo pipefail
dest=${1:?usage: make-rootfs.sh DIR}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-rootfs: $busybox missing (install busybox-static)" >&2; exit 1; }

stamp="$dest/.bulkhead-rootfs"
if [ -f "$stamp" ] && [ "$stamp" -nt "$busybox" ] && [ "$stamp" -nt "$0" ]; then
  exit 0
fi

rm -rf "$dest"
mkdir -p "$dest"/{bin,sbin,etc,proc,sys,dev,tmp,root,home,run,var/tmp,usr/bin,usr/sbin}
cp "$busybox" "$dest/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$dest/bin/$applet"
done
chmod 1777 "$dest/tmp" "$dest/var/tmp"
cat >"$dest/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$dest/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
echo bulkhead >"$dest/etc/hostname"
touch "$stamp"
