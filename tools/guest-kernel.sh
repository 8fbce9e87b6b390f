#!/usr/bin/env bash
# Builds the guest kernel for bulkhead-vmm from guest/kernel.config and Debian's
# linux-source-6.1, and caches it by the hash of (the config, the source package version,
# this script), so builds and tests reuse one kernel until one of those changes.
#
#   tools/guest-kernel.sh [OUTDIR]
#
# Prints the directory holding vmlinux (ELF, for the PVH entry), bzImage and config (the
# final .config) on stdout: OUTDIR when given (the files are copied there), else the cache
# entry. Everything else goes to stderr. Cache: ${BULKHEAD_CACHE:-~/.cache/bulkhead}/guest-kernel.
# Installs nothing: tools/deps.sh brings the packages.
set -euo pipefail

die() { echo "guest-kernel: $*" >&2; exit 1; }
log() { echo "guest-kernel: $*" >&2; }

# The work is one function, called on the last line: bash reads a script as it runs, and a
# build takes minutes, during which the file may be edited.
main() {
  src_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  config=$src_root/guest/kernel.config
  tarball=/usr/src/linux-source-6.1.tar.xz
  cache=${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/guest-kernel
  outdir=${1:-}

  [ -f "$config" ] || die "$config missing"
  [ -f "$tarball" ] || die "$tarball missing (package linux-source-6.1; run tools/deps.sh)"
  version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
    die "cannot read the version of package linux-source-6.1"
  hash=$({ cat "$config"; echo "linux-source-6.1 $version"; cat "${BASH_SOURCE[0]}"; } |
    sha256sum | cut -c1-16)
  entry=$cache/$hash

  # publish DIR: prints where the kernel is, copying it to OUTDIR first when one was given.
  publish() {
    if [ -n "$outdir" ]; then
      mkdir -p "$outdir"
      cp "$1/vmlinux" "$1/bzImage" "$1/config" "$outdir/"
      (cd "$outdir" && pwd)
    else
      echo "$1"
    fi
  }

  complete() { [ -f "$1/vmlinux" ] && [ -f "$1/bzImage" ] && [ -f "$1/config" ]; }

  if complete "$entry"; then
    publish "$entry"
    exit 0
  fi

  for tool in make gcc flex bison bc xz perl; do
    command -v "$tool" >/dev/null || die "$tool missing (run tools/deps.sh)"
  done
  # objtool (x86_64's ORC unwinder) is built against libelf.
  [ -f /usr/include/gelf.h ] || die "libelf headers missing (package libelf-dev; run tools/deps.sh)"

  mkdir -p "$cache"
  # One build at a time: a second caller waits, then finds the entry complete.
  exec 9>"$cache/.lock"
  if ! flock -n 9; then
    log "waiting for another build of the guest kernel"
    flock 9
  fi
  if complete "$entry"; then
    publish "$entry"
    exit 0
  fi

  # The unpacked source is shared by every config built from one package version; builds
  # go to their own object directory (O=), so the tree stays clean.
  src=$cache/src-$version
  if [ ! -f "$src/.unpacked" ]; then
    log "unpacking $tarball"
    rm -rf "$src"
    mkdir -p "$src"
    tar -xJf "$tarball" -C "$src" --strip-components=1
    touch "$src/.unpacked"
  fi
  for old in "$cache"/src-*; do
    [ "$old" = "$src" ] || [ ! -d "$old" ] || rm -rf "$old"
  done

  # Object directories of failed builds stay for their logs until the next build.
  rm -rf "$cache"/obj-*
  obj=$cache/obj-$hash
  mkdir -p "$obj"
  buildlog=$obj/build.log
  kmake() { make -C "$src" O="$obj" ARCH=x86_64 "$@" >>"$buildlog" 2>&1; }

  log "configuring (allnoconfig + guest/kernel.config)"
  kmake KCONFIG_ALLCONFIG="$config" allnoconfig || {
    tail -n 30 "$buildlog" >&2
    die "configuration failed (log: $buildlog)"
  }

  # Kconfig drops a request silently when a dependency is missing: every line of the
  # fragment must be in the result exactly as written.
  missing=()
  while IFS= read -r line; do
    case $line in
      CONFIG_*=*)
        grep -qxF -- "$line" "$obj/.config" || missing+=("$line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo absent))")
        ;;
      "# CONFIG_"*" is not set")
        opt=${line#\# }
        opt=${opt%% *}
        if grep -q "^$opt=" "$obj/.config"; then missing+=("$line (got: $(grep "^$opt=" "$obj/.config"))"); fi
        ;;
    esac
  done <"$config"
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'guest-kernel: not in the final .config: %s\n' "${missing[@]}" >&2
    die "guest/kernel.config asks for options Kconfig did not grant (a dependency is missing)"
  fi

  jobs=$(nproc)
  log "building Linux $version with -j$jobs (log: $buildlog)"
  start=$SECONDS
  kmake -j"$jobs" vmlinux bzImage || {
    tail -n 40 "$buildlog" >&2
    die "build failed (log: $buildlog)"
  }
  log "built in $((SECONDS - start)) s"

  stage=$cache/.stage-$hash
  rm -rf "$stage"
  mkdir -p "$stage"
  cp "$obj/vmlinux" "$stage/vmlinux"
  cp "$obj/arch/x86/boot/bzImage" "$stage/bzImage"
  cp "$obj/.config" "$stage/config"
  echo "linux-source-6.1 $version" >"$stage/source-version"
  rm -rf "$entry"
  mv "$stage" "$entry"
  rm -rf "$obj"
  publish "$entry"
}

main "$@"; exit
