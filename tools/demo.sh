#!/usr/bin/env bash
# `make demo`: runs one container with bulkhead's default (hardened) config and
# lets the workload report, from the inside, what it can and cannot do.
# Builds nothing: uses BUILD/bin/bulkhead and BUILD/rootfs.
# Exit status: 0 when every protection held, 1 when one did not or the runtime failed.
set -uo pipefail
BUILD=$(cd "${1:?usage: tools/demo.sh BUILD}" && pwd) || exit 1
BULKHEAD=${BULKHEAD:-$BUILD/bin/bulkhead}
ROOTFS=${BULKHEAD_ROOTFS:-$BUILD/rootfs}
[ -x "$BULKHEAD" ] || { echo "demo: $BULKHEAD missing (make build)" >&2; exit 1; }
[ -x "$ROOTFS/bin/busybox" ] || { echo "demo: $ROOTFS missing (make rootfs)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (namespaces and cgroups need it)" >&2; exit 1; }

T=$(mktemp -d /tmp/bulkhead-demo.XXXXXX)
chmod 755 "$T"
ID=demo-$$
cleanup() {
  timeout 10 "$BULKHEAD" --root "$T/state" delete --force "$ID" >/dev/null 2>&1
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The bundle: bulkhead's own default config, with only the workload swapped in.
B=$T/bundle
mkdir -p "$B"
chmod 755 "$B"
(cd "$B" && "$BULKHEAD" spec) || { echo "demo: '$BULKHEAD spec' failed" >&2; exit 1; }
root=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root"]["path"])' "$B/config.json")
case $root in /*) ;; *) root=$B/$root ;; esac
cp -a "$ROOTFS" "$root"
python3 - "$B/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "/what-can-i-do.sh"]
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY

# The workload: each line says what it tried and whether the boundary held.
# ✓ = the container is confined in that respect, ✗ = it is not, • = information.
cat >"$root/what-can-i-do.sh" <<'PROBE'
good() { echo "  ✓ $*"; }
bad() { echo "  ✗ $*"; }
info() { echo "  • $*"; }
status() { sed -n "s/^$1:[[:space:]]*//p" /proc/self/status; }

info "I am $(id) in $(pwd), hostname $(hostname), pid $$"
map=$(tr -s ' ' </proc/self/uid_map | sed 's/^ //')
case $map in
  "0 0 "*) bad "my uid 0 is the host's root (uid_map: $map)" ;;
  *) good "my uid 0 is not the host's root (uid_map: $map)" ;;
esac
cap=$(status CapEff)
[ "$cap" = 0000000000000000 ] && good "no capabilities (CapEff $cap)" || bad "capabilities: CapEff $cap"
[ "$(status NoNewPrivs)" = 1 ] && good "no_new_privs is set: setuid binaries cannot raise privileges" \
  || bad "no_new_privs is not set"
[ "$(status Seccomp)" = 2 ] && good "a seccomp filter guards the kernel's syscall surface (mode 2)" \
  || bad "no seccomp filter (Seccomp: $(status Seccomp))"
if err=$(touch /i-was-here 2>&1); then bad "I could write to the root filesystem"
else good "the root filesystem is read-only (${err##*: })"; fi
if echo scratch >/tmp/scratch 2>/dev/null; then good "/tmp is writable scratch space"
else info "/tmp is not writable"; fi
links=$(ip -o link 2>/dev/null | awk -F': ' '{print $2}' | tr '\n' ' ')
[ -z "$links" ] && links=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')
case $links in
  "lo " | "") good "no network: interfaces [${links% }]" ;;
  *) bad "network interfaces: $links" ;;
esac
if err=$(mount -t tmpfs none /home 2>&1); then bad "I could mount a filesystem"
else good "mount is refused (${err##*: })"; fi
if err=$(unshare -U true 2>&1); then bad "I could create a new user namespace"
else good "new namespaces are refused (unshare -U: ${err##*: })"; fi
if [ "$(cat /proc/kcore 2>/dev/null | head -c 16 | wc -c)" -eq 0 ]; then
  good "/proc/kcore is masked"
else bad "/proc/kcore is readable"; fi
echo "$(ulimit -n)" | grep -q unlimited && bad "no open-files limit" || info "open-files limit: $(ulimit -n)"
# Fork until refused, in a subshell so the refusal does not end this script.
(i=0; while [ $i -lt 1200 ]; do sleep 5 & i=$((i + 1)); done) 2>/dev/null
set -- /proc/[0-9]*
if [ $# -lt 1200 ]; then good "the process count is capped: 1200 forks tried, $# processes exist"
else bad "1200 forks all succeeded: no pids limit"; fi
PROBE

echo "bulkhead demo: one container with the default configuration ($("$BULKHEAD" --version 2>/dev/null | head -1))"
echo "The workload inside reports what it can and cannot do:"
"$BULKHEAD" --root "$T/state" run --bundle "$B" "$ID" </dev/null 2>"$T/stderr" | tee "$T/out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ] || ! grep -q '1200 forks' "$T/out"; then
  echo "demo: the runtime failed (exit status $rc):" >&2
  sed 's/^/  /' "$T/stderr" >&2
  exit 1
fi
if grep -q '✗' "$T/out"; then
  echo "Some protections did not hold (✗ above)."
  exit 1
fi
echo "Every protection held."
