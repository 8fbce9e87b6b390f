#!/usr/bin/env bash
# The test host's kernel: the package Debian's linux-image-cloud-amd64 depends on, downloaded
# and unpacked without installing it (this machine's own kernel stays as it is). Keeps its
# vmlinuz and the modules that give /dev/kvm on AMD (irqbypass, kvm, kvm-amd, and whatever
# they depend on), cached by package name and version.
#
#   tools/test-host-kernel.sh
#
# Prints the cache entry on stdout: vmlinuz, modules/<name>.ko, modules/order (load order,
# one name a line), release. Cache: ${BULKHEAD_CACHE:-~/.cache/bulkhead}/test-host.
set -euo pipefail

die() { echo "test-host-kernel: $*" >&2; exit 1; }
cache=${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/test-host
wanted=(kvm-amd)

complete() { [ -f "$1/vmlinuz" ] && [ -f "$1/modules/order" ]; }

# Resolving through apt-cache takes seconds; the answer holds until the package lists change.
lists_stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null) || lists_stamp=none
pkg="" version=""
if [ -f "$cache/resolved" ] && [ "$(sed -n 1p "$cache/resolved")" = "$lists_stamp" ]; then
  read -r pkg version < <(sed -n 2p "$cache/resolved") || true
else
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }') || true
  [ -z "$pkg" ] || version=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
    awk '$1 == "Version:" { print $2; exit }') || true
  if [ -n "$version" ]; then
    mkdir -p "$cache"
    printf '%s\n%s %s\n' "$lists_stamp" "$pkg" "$version" >"$cache/resolved.$$"
    mv "$cache/resolved.$$" "$cache/resolved"
  fi
fi
if [ -z "$version" ]; then
  # No package index (offline CI): any kernel fetched before serves as well.
  newest=$(ls -td "$cache"/linux-image-* 2>/dev/null | head -1) || true
  if [ -n "$newest" ] && complete "$newest"; then
    echo "test-host-kernel: linux-image-cloud-amd64 not in the package index; using $newest" >&2
    echo "$newest"
    exit 0
  fi
  die "cannot resolve linux-image-cloud-amd64 (run apt-get update) and nothing is cached"
fi
entry=$cache/${pkg}_$version
if complete "$entry"; then echo "$entry"; exit 0; fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if complete "$entry"; then echo "$entry"; exit 0; fi

work=$cache/.fetch-$$
trap 'rm -rf "$work"' EXIT
rm -rf "$work"
mkdir -p "$work/deb" "$work/stage/modules"
# apt's download sandbox user cannot write into a root-owned private directory.
chmod 777 "$work/deb"
echo "test-host-kernel: downloading $pkg $version" >&2
(cd "$work/deb" && apt-get download "$pkg=$version") >"$work/apt.log" 2>&1 || {
  cat "$work/apt.log" >&2
  die "apt-get download $pkg=$version failed"
}
dpkg-deb -x "$work/deb"/*.deb "$work/x"
release=${pkg#linux-image-}
moddir=$work/x/lib/modules/$release
cp "$work/x/boot/vmlinuz-$release" "$work/stage/vmlinuz" || die "no vmlinuz-$release in $pkg"
echo "$release" >"$work/stage/release"

# module_file NAME: the module's file; module names treat '-' and '_' alike.
find "$moddir" -name '*.ko*' >"$work/modules.list"
module_file() {
  awk -v want="${1//-/_}" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko.*/, "", b); gsub(/-/, "_", b) }
    b == want { print; found = 1; exit } END { exit !found }' "$work/modules.list"
}

# add NAME: copies the module after its dependencies (from its .modinfo), appending to order.
added=" "
add() {
  local name=$1 f ko deps d
  [[ $added == *" ${name//-/_} "* ]] && return 0
  f=$(module_file "$name") || die "module $name not in $pkg"
  ko=$work/stage/modules/$(basename "${f%%.ko*}").ko
  case $f in
    *.ko) cp "$f" "$ko" ;;
    *.ko.xz) xz -dc "$f" >"$ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$ko" ;;
    *) die "unknown module format: $f" ;;
  esac
  deps=$(objcopy -O binary -j .modinfo "$ko" /dev/stdout | tr '\0' '\n' | sed -n 's/^depends=//p')
  for d in ${deps//,/ }; do add "$d"; done
  added+="${name//-/_} "
  basename "$ko" .ko >>"$work/stage/modules/order"
}
for m in "${wanted[@]}"; do add "$m"; done

rm -rf "$entry"
mv "$work/stage" "$entry"
echo "$entry"
