#!/usr/bin/env bash
# Runs a command as root inside the test host: QEMU in software emulation (TCG) with an
# emulated AMD SVM CPU, booting Debian's cloud kernel with kvm-amd loaded, so the command
# sees a /dev/kvm that boots real guests even where this machine's own KVM cannot
# (docs/test-host.md).
#
#   tools/test-host.sh [--mem MiB] [--smp N] [--timeout SEC] [--stall SEC] [--direct]
#                      [--file HOST[:GUEST]]... [--dir HOST[:GUEST]]... [--env NAME=VALUE]...
#                      [--cwd DIR] [--verbose] -- COMMAND [ARG...]
#
# Files and trees are copied into the test host's initramfs, at their host path unless a
# guest path is given; dynamically linked ELF files bring their shared libraries along.
# COMMAND's stdout and stderr (one stream, the serial console) appear on stdout; its stdin
# is /dev/null. Exit status: COMMAND's, 124 when --timeout passed, 125 when the test host
# itself failed (its boot log is then printed to stderr).
# --stall SEC: the command may be run twice; a run that prints nothing for SEC seconds is taken
# for a frozen emulator (see below), stopped, and the test host is booted once more.
# --direct: when tools/kvm-usable.sh says this machine's KVM boots Linux, run COMMAND here
# instead (no copying: the default guest paths are the host paths, so the same command works).
set -euo pipefail

# One function, called on the last line: bash reads a script as it runs, and the file may
# be edited while a test host is up.
main() {
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  die() { echo "test-host: $*" >&2; exit 125; }
  usage() { sed -n '7,9p' "${BASH_SOURCE[0]}" | sed 's/^# *//; s/^/usage: /' >&2; exit 125; }

  mem=1024 smp=1 timeout_s=600 stall_s=0 cwd=/ direct=0 verbose=0
  files=() dirs=() envs=()
  while [ $# -gt 0 ]; do
    case $1 in
      --mem) mem=${2:?}; shift 2 ;;
      --smp) smp=${2:?}; shift 2 ;;
      --timeout) timeout_s=${2:?}; shift 2 ;;
      --stall) stall_s=${2:?}; shift 2 ;;
      --file) files+=("${2:?}"); shift 2 ;;
      --dir) dirs+=("${2:?}"); shift 2 ;;
      --env) envs+=("${2:?}"); shift 2 ;;
      --cwd) cwd=${2:?}; shift 2 ;;
      --direct) direct=1; shift ;;
      --verbose) verbose=1; shift ;;
      --) shift; break ;;
      *) usage ;;
    esac
  done
  [ $# -gt 0 ] || usage
  for n in "$mem" "$smp" "$timeout_s" "$stall_s"; do
    case $n in ''|*[!0-9]*) die "not a number: $n" ;; esac
  done
  for e in "${envs[@]}"; do
    [[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env wants NAME=VALUE, got: $e"
  done

  if [ "$direct" = 1 ] && bash "$here/kvm-usable.sh"; then
    cd "$cwd"
    exec timeout -k 5 "$timeout_s" env "${envs[@]}" "$@"
  fi

  command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (package qemu-system-x86; run tools/deps.sh)"
  [ -x /bin/busybox ] || die "/bin/busybox missing (package busybox-static; run tools/deps.sh)"
  host_kernel=$(bash "$here/test-host-kernel.sh") || die "no test host kernel"

  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bh-test-host.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  root=$tmp/root
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root,run,lib/modules,.test-host}
  cp /bin/busybox "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"   # init links the other applets itself: one process, not hundreds
  cp "$host_kernel"/modules/*.ko "$host_kernel/modules/order" "$root/lib/modules/"
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  echo "root:x:0:" >"$root/etc/group"

  # add_libs FILE: copies the shared libraries and the loader a dynamic ELF file needs.
  add_libs() {
    local f=$1 lib
    local headers
    [ "$(od -An -c -N4 "$f" 2>/dev/null | tr -d ' ')" = '177ELF' ] || return 0
    headers=$(readelf -l "$f" 2>/dev/null) || return 0
    [[ $headers == *"program interpreter"* ]] || return 0
    # ldd names each library by the path the loader would open (=> /x) or, for the loader
    # itself, by its own path; both are where the copy goes.
    for lib in $(ldd "$f" 2>/dev/null | grep -oE '(=> )?/[^ ]+' | sed 's/^=> //'); do
      [ -e "$root$lib" ] && continue
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  }

  # split SPEC: HOST[:GUEST] into $host and $guest (default: the absolute host path).
  split() {
    host=${1%%:*}
    guest=${1#*:}
    [ "$guest" != "$1" ] || guest=$(realpath -s "$host")
    [ -e "$host" ] || die "no such file or directory: $host"
    case $guest in /*) ;; *) die "guest path must be absolute: $guest" ;; esac
  }
  for spec in "${files[@]}"; do
    split "$spec"
    [ -f "$host" ] || die "--file wants a regular file: $host"
    mkdir -p "$root$(dirname "$guest")"
    cp -L "$host" "$root$guest"
    add_libs "$host"
  done
  for spec in "${dirs[@]}"; do
    split "$spec"
    [ -d "$host" ] || die "--dir wants a directory: $host"
    mkdir -p "$root$guest"
    cp -a "$host/." "$root$guest/"
    while IFS= read -r -d '' f; do add_libs "$f"; done < <(find "$host" -type f -perm -u+x -print0)
  done

  # The command and its environment, single-quoted for the guest's shell.
  quote() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
  nonce=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
  {
    for e in "${envs[@]}"; do printf 'export %s=%s\n' "${e%%=*}" "$(quote "${e#*=}")"; done
    printf 'cd %s || exit 125\n' "$(quote "$cwd")"
    printf 'exec'
    for a in "$@"; do printf ' %s' "$(quote "$a")"; done
    printf '\n'
  } >"$root/.test-host/command"
  cp "$here/test-host-init.sh" "$root/init"
  chmod 755 "$root/init"
  echo "$nonce" >"$root/.test-host/nonce"

  (cd "$root" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) >"$tmp/initramfs"

  accel=tcg
  [ "$smp" -gt 1 ] && accel=tcg,thread=multi
  # softlockup_panic: a CPU of the test host stuck in its kernel for 20 s ends it (with a
  # backtrace on the console) instead of leaving it frozen until --timeout.
  cmdline="console=ttyS0 panic=-1 softlockup_panic=1 rdinit=/init"
  # Warnings and errors still reach the boot log (shown when the test host fails).
  [ "$verbose" = 1 ] || cmdline+=" quiet loglevel=4"
  cmdline+=" ${BULKHEAD_TEST_HOST_APPEND:-}"  # more for the test host's kernel (debugging)
  qemu=(qemu-system-x86_64 -nodefaults -no-user-config -M pc -accel "$accel"
    -cpu EPYC-v3,+svm -m "$mem" -smp "$smp" -display none -serial stdio -no-reboot
    -pidfile "$tmp/qemu.pid" -kernel "$host_kernel/vmlinuz" -initrd "$tmp/initramfs" -append "$cmdline")
  # For looking into a test host that misbehaves (docs/test-host.md): QEMU's monitor.
  mon=${BULKHEAD_TEST_HOST_MONITOR:-}
  [ -z "$mon" ] || qemu+=(-monitor "unix:$mon,server,nowait")

  # The console carries the boot, then the start marker, the command's output, and the end
  # marker with its status. Only the part between the markers reaches stdout; the rest is
  # the boot log, shown when something went wrong (or live with --verbose).
  start=TEST-HOST-START-$nonce end=TEST-HOST-EXIT-$nonce=
  # An emulated machine on a busy host very rarely hangs while it boots, before the command
  # starts; that is the emulator's trouble, not the command's. A boot that shows no start
  # marker within boot_s is stopped and tried once more; the command itself runs only once.
  # A boot takes 10 to 30 s here, loaded or not.
  # Rarer still, the emulated machine freezes later (seen in about one of thirty suites under
  # load, in a different case each time): once with nothing on its console, once with a CPU
  # stuck in the kernel under a bulkhead-vmm thread (soft lockups, which now panic it). A
  # caller whose command may run again says so with --stall: a command silent for that long,
  # or a test host that went down under it, is run again in a fresh boot.
  boot_s=${BULKHEAD_TEST_HOST_BOOT_TIMEOUT:-150}
  # mawk (Debian's awk) fills its whole input buffer before it looks at a line; the start
  # marker must be seen when it arrives, not when 4 KiB of output have piled up behind it.
  awk=(awk)
  awk -W version 2>&1 | grep -q mawk && awk=(awk -W interactive)
  for attempt in 1 2; do
    rm -f "$tmp/started" "$tmp/boot-hung" "$tmp/stalled" "$tmp/status" "$tmp/qemu.pid" \
      "$tmp/boot.log"
    # It holds none of the caller's fds (a reader waiting for EOF would wait for it), and
    # when it is stopped it stops its sleep too. $tmp/started's time is the last output's.
    (
      trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
      begun=$(date +%s)
      while :; do
        sleep 5 &
        sleeper=$!
        wait "$sleeper"
        now=$(date +%s) why=""
        if [ ! -e "$tmp/started" ]; then
          [ $((now - begun)) -lt "$boot_s" ] || why=boot-hung
        elif [ "$stall_s" -gt 0 ]; then
          [ $((now - $(stat -c %Y "$tmp/started"))) -lt "$stall_s" ] || why=stalled
        fi
        if [ -n "$why" ] && [ -s "$tmp/qemu.pid" ]; then
          touch "$tmp/$why"
          kill "$(cat "$tmp/qemu.pid")" 2>/dev/null
          exit 0
        fi
      done
    ) </dev/null >/dev/null 2>&1 &
    watchdog=$!
    set +e
    timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null 2>"$tmp/qemu.err" |
      "${awk[@]}" -v start="$start" -v endm="$end" -v status="$tmp/status" -v boot="$tmp/boot.log" \
        -v started="$tmp/started" -v verbose="$verbose" '
        { sub(/\r$/, "") }
        state == 0 && $0 == start { state = 1; printf "" > started; close(started); next }
        state == 1 && (i = index($0, endm)) {
          if (i > 1) { print substr($0, 1, i - 1); fflush() }
          print substr($0, i + length(endm)) > status
          state = 2; next
        }
        state == 1 { print; fflush(); printf "" > started; close(started); next }
        { print > boot; if (verbose == 1) { print > "/dev/stderr"; fflush("/dev/stderr") } }'
    qemu_rc=${PIPESTATUS[0]}
    set -e
    kill "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
    [ "$attempt" = 1 ] || break
    if [ -e "$tmp/boot-hung" ]; then
      echo "test-host: no start marker after ${boot_s}s; booting the test host once more" >&2
    elif [ -e "$tmp/stalled" ] && [ ! -s "$tmp/status" ]; then
      echo "test-host: the command printed nothing for ${stall_s}s; running it again" \
        "in a fresh boot" >&2
    elif [ "$stall_s" -gt 0 ] && [ -e "$tmp/started" ] && [ ! -s "$tmp/status" ] &&
      [ "$qemu_rc" -ne 124 ] && [ "$qemu_rc" -ne 137 ]; then
      echo "test-host: the test host went down while the command ran (its console above says" \
        "why); running it again in a fresh boot" >&2
    else
      break
    fi
    {
      echo "--- boot log of the stopped attempt (last 20 lines) ---"
      tail -n 20 "$tmp/boot.log" 2>/dev/null || echo "(nothing)"
    } >&2
  done

  if [ -s "$tmp/status" ]; then
    exit "$(cat "$tmp/status")"
  fi
  {
    if [ -e "$tmp/boot-hung" ]; then
      echo "test-host: the test host did not reach its init within ${boot_s}s, twice"
    elif [ -e "$tmp/stalled" ]; then
      echo "test-host: the command printed nothing for ${stall_s}s, twice"
    elif [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
      if [ -e "$tmp/started" ]; then
        echo "test-host: timed out after ${timeout_s}s; the command had started"
      else
        echo "test-host: timed out after ${timeout_s}s, before the command started"
      fi
    else
      echo "test-host: the test host stopped without the command's status (qemu exit $qemu_rc)"
    fi
    if [ "$verbose" = 0 ]; then
      echo "--- test host boot log (last 40 lines) ---"
      tail -n 40 "$tmp/boot.log" 2>/dev/null || echo "(nothing)"
    fi
    if [ -s "$tmp/qemu.err" ]; then
      echo "--- qemu stderr ---"
      tail -n 20 "$tmp/qemu.err"
    fi
  } >&2
  if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then exit 124; fi
  exit 125
}

main "$@"; exit
